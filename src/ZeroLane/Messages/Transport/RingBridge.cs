using ZeroLane.Buffers;

namespace ZeroLane.Messages.Transport;

/// <summary>What a <see cref="RingBridge"/> carried.</summary>
/// <param name="Frames">Frames forwarded (or written into the far buffer).</param>
/// <param name="Bytes">Their payload bytes.</param>
public readonly record struct RingBridgeResult(long Frames, long Bytes);

/// <summary>
/// Carries a ring across hosts over a <see cref="MessageConnection"/>: <see cref="SendAsync"/> forwards a local buffer's
/// metadata and every frame, read in place and sent with vectored writes (no copy in user space), and
/// <see cref="ReceiveAsync"/> receives each frame straight into a loan of the far buffer (no copy either). The wire is
/// documented in docs/PROTOCOL.md (the bridge protocol).
/// </summary>
/// <remarks>
/// Design: neither end buffers anything of its own. The receiver asks for the next frame only once its loan of the far
/// ring is granted, so a slow far reader fills the far ring, then the connection's windows, which blocks the sender's
/// send, which stops it reading the near ring, which blocks the near writer. Nothing is dropped anywhere. The stream ends
/// with an end message once the near writer disconnects; the receiver then disconnects its writer before it closes the
/// connection, so the sender's <see cref="SendAsync"/> returns only once the far reader can see every frame.
/// </remarks>
public static class RingBridge
{
    /// <summary>How often a sender with no metadata forwarded yet looks for it while no frame arrives.</summary>
    private static readonly TimeSpan s_metadataPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Forwards <paramref name="reader"/>'s metadata and frames over <paramref name="connection"/> until the writer
    /// disconnects, then ends the stream and waits until the receiving end has written everything and closed. Each frame is
    /// released once sent, which is what lets the near writer go on. The connection is closed when this returns.
    /// </summary>
    /// <exception cref="WriterGoneException">The near writer died without disconnecting; the far end was not told the stream ended.</exception>
    /// <exception cref="MessageConnectionException">The connection broke.</exception>
    public static async Task<RingBridgeResult> SendAsync(RingReader reader, MessageConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(connection);
        bool metadataSent = false;
        byte[] sequenceBody = new byte[RingBridgeProtocol.SequenceLength];
        long frames = 0, bytes = 0;
        while (true)
        {
            if (!metadataSent && reader.HasMetadata)
            {
                await SendMetadataAsync(reader, connection, cancellationToken).ConfigureAwait(false);
                metadataSent = true;
            }
            ReadResult result = await reader.TryReadAsync(metadataSent ? Timeout.InfiniteTimeSpan : s_metadataPollInterval, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case ReadStatus.Success:
                    if (!metadataSent && reader.HasMetadata)
                    {
                        // Metadata the writer set just before this frame goes first, as it went first into the near ring.
                        try
                        {
                            await SendMetadataAsync(reader, connection, cancellationToken).ConfigureAwait(false);
                        }
                        catch
                        {
                            result.Frame.Dispose();
                            throw;
                        }
                        metadataSent = true;
                    }
                    RingBridgeProtocol.WriteSequence(sequenceBody, result.Frame.Sequence);
                    int length = result.Frame.Length;
                    // The message owns the frame: disposing it releases the frame, once the frame's bytes are on the wire.
                    using (Message message = Message.CreateBuilder().WithBody(sequenceBody).AddPart(result.Frame).Build())
                    {
                        await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
                    }
                    frames++;
                    bytes += length;
                    break;
                case ReadStatus.TimedOut:
                    break;
                case ReadStatus.WriterDisconnected:
                    if (!metadataSent && reader.HasMetadata)
                    {
                        await SendMetadataAsync(reader, connection, cancellationToken).ConfigureAwait(false);
                    }
                    using (Message end = Message.Create(RingBridgeProtocol.EndTag.ToArray()))
                    {
                        await connection.SendAsync(end, cancellationToken).ConfigureAwait(false);
                    }
                    await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
                    return new RingBridgeResult(frames, bytes);
                default:
                    throw new WriterGoneException(
                        $"The writer of buffer '{reader.Name}' died without disconnecting after {frames} frames; the far end was not told " +
                        "the stream ended.", crashed: true);
            }
        }
    }

    /// <summary>
    /// Writes what a <see cref="SendAsync"/> at the other end of <paramref name="connection"/> forwards into
    /// <paramref name="writer"/>: the metadata, then each frame, received straight into a loan of the buffer. When the stream
    /// ends, disconnects <paramref name="writer"/> (disposes it) and then closes the connection, which tells the sender
    /// everything was delivered. Frames and metadata larger than the buffer takes are refused before anything is allocated.
    /// </summary>
    /// <exception cref="MessageConnectionClosedException">The sender closed the connection before the end of the stream (it failed or was stopped).</exception>
    /// <exception cref="MessageFormatException">The peer sent something that is not the bridge protocol, or frames out of order.</exception>
    /// <exception cref="ReaderGoneException">The local buffer's reader is gone.</exception>
    public static async Task<RingBridgeResult> ReceiveAsync(MessageConnection connection, RingWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(writer);
        // Nothing larger could be written to the local buffer anyway; refusing it before allocating is the point of the limit.
        long largest = Math.Max(writer.MaxFrameLength, writer.MetadataCapacity) + MessageEncoding.HeaderSize(1) + RingBridgeProtocol.SequenceLength;
        connection.Receiver.Limits = new MessageLimits { MaxMessageLength = Math.Min(int.MaxValue, largest), MaxParts = 1 };
        var destination = new LoanDestination(writer);
        ulong expectedSequence = 1;
        long frames = 0, bytes = 0;
        try
        {
            while (true)
            {
                ReceiveResult result = await connection.Receiver.TryReceiveAsync(destination, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                if (result.Status != ReceiveStatus.Success)
                {
                    throw new MessageConnectionClosedException(
                        $"The sender closed the connection before the end of the stream (it failed or was stopped); {frames} frames were " +
                        $"written to buffer '{writer.Name}'.");
                }
                using Message message = result.Message!;
                ReadOnlySpan<byte> body = message.Body.Span;
                switch (RingBridgeProtocol.KindOf(body, message.PartCount))
                {
                    case RingBridgeProtocol.Kind.Frame:
                        ulong sequence = RingBridgeProtocol.ReadSequence(body);
                        if (sequence != expectedSequence)
                        {
                            throw new MessageFormatException(
                                $"The sender forwarded frame {sequence} where frame {expectedSequence} was expected; the stream is broken.");
                        }
                        int length = message.GetPart(0).Length;
                        destination.Commit(length);
                        expectedSequence++;
                        frames++;
                        bytes += length;
                        break;
                    case RingBridgeProtocol.Kind.Metadata:
                        writer.SetMetadata(message.GetPart(0).Span);
                        break;
                    case RingBridgeProtocol.Kind.End:
                        // Disconnect the writer before closing the connection: when the sender sees the close, the reader here has it all.
                        writer.Dispose();
                        await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
                        return new RingBridgeResult(frames, bytes);
                    default:
                        throw NotTheProtocol();
                }
            }
        }
        finally
        {
            destination.Abandon();
        }
    }

    private static async ValueTask SendMetadataAsync(RingReader reader, MessageConnection connection, CancellationToken cancellationToken)
    {
        using Message message = Message.Create(RingBridgeProtocol.MetadataTag.ToArray(), reader.GetMetadata().ToArray());
        await connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private static MessageFormatException NotTheProtocol() =>
        new("The peer sent a message that is not part of the ring bridge protocol; is it a ring bridge sender ('zerolane bridge send')?");

    /// <summary>Receives frame parts straight into a loan of the local ring, and the metadata part into an array.</summary>
    private sealed class LoanDestination(RingWriter writer) : IPartDestination
    {
        private FrameLoan _loan;

        public async ValueTask<Memory<byte>> GetPartMemoryAsync(ReadOnlyMemory<byte> body, int partCount, int partIndex, int partLength, CancellationToken cancellationToken)
        {
            switch (RingBridgeProtocol.KindOf(body.Span, partCount))
            {
                case RingBridgeProtocol.Kind.Frame:
                    // Waits while the local ring is full: this is where back-pressure starts.
                    LoanResult result = await writer.TryLoanAsync(partLength, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                    if (result.Status != WriteStatus.Success)
                    {
                        throw ThrowHelper.WriteFailed(result.Status, writer.Name, Timeout.InfiniteTimeSpan);
                    }
                    _loan = result.Loan;
                    return _loan.BufferWriter.GetMemory(partLength);
                case RingBridgeProtocol.Kind.Metadata:
                    return new byte[partLength];
                default:
                    throw NotTheProtocol();
            }
        }

        internal void Commit(int length)
        {
            _loan.Commit(length);
            _loan = default;
        }

        internal void Abandon()
        {
            _loan.Dispose();
            _loan = default;
        }
    }
}
