using System.Net.Sockets;
using System.Text;
using ZeroLane.Buffers;

namespace ZeroLane.Messages.Transport;

/// <summary>What a <see cref="RingBridge"/> carried.</summary>
/// <param name="Frames">Frames forwarded (or written into the far buffer).</param>
/// <param name="Bytes">Their payload bytes.</param>
public readonly record struct RingBridgeResult(long Frames, long Bytes);

/// <summary>
/// Carries a ring across hosts over a <see cref="MessageConnection"/>: <see cref="SendAsync(RingReader, MessageConnection, CancellationToken)"/>
/// forwards a local buffer's metadata and every frame, read in place and sent with vectored writes (no copy in user
/// space), and <see cref="ReceiveAsync"/> receives each frame straight into a loan of the far buffer (no copy either). The
/// wire is documented in docs/PROTOCOL.md (the bridge protocol).
/// </summary>
/// <remarks>
/// Design: neither end buffers anything of its own. The receiver asks for the next frame only once its loan of the far
/// ring is granted, so a slow far reader fills the far ring, then the connection's windows, which blocks the sender's
/// send, which stops it reading the near ring, which blocks the near writer. Nothing is dropped anywhere.
/// <para>
/// Delivery: the receiver replies. It says "ready" once its writer is connected (the sender reads no frame before that),
/// "failed" with its reason and the count of frames it committed when it cannot go on (the sender stops at once, so its
/// near writer stops being accepted), and "delivered" with that count after the end of the stream, once its writer has
/// disconnected. The sender's <c>SendAsync</c> returns only on a "delivered" that counts every frame it took; anything
/// else is a <see cref="BridgeDeliveryException"/> saying how many frames were not delivered.
/// </para>
/// </remarks>
public static class RingBridge
{
    /// <summary>How often a sender with no metadata forwarded yet looks for it while no frame arrives.</summary>
    private static readonly TimeSpan s_metadataPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long a failing end waits to hand over its last message, and then discards what its peer still sends so that
    /// message is not lost to a reset; and how long a sender whose connection broke waits for the receiver's reason.
    /// </summary>
    private static readonly TimeSpan s_failureGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Forwards <paramref name="reader"/>'s metadata and frames over <paramref name="connection"/> until the writer
    /// disconnects, then ends the stream and waits until the receiving end confirms it wrote every frame. Nothing is read
    /// before the receiving end says it is ready. Each frame is released once sent, which is what lets the near writer
    /// go on. The connection is closed when this returns or throws.
    /// </summary>
    /// <exception cref="BridgeDeliveryException">The receiving end failed, closed or broke the connection, or confirmed fewer
    /// frames than were sent; the message gives its reason and the count of frames not delivered.</exception>
    /// <exception cref="WriterGoneException">The near writer died without disconnecting; the far end was not told the stream ended.</exception>
    public static async Task<RingBridgeResult> SendAsync(RingReader reader, MessageConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(connection);
        var replies = new ReceiverReplies(connection);
        try
        {
            await replies.WaitUntilReadyAsync(reader.Name, bufferCreated: true, cancellationToken).ConfigureAwait(false);
            return await ForwardAsync(reader, connection, replies, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits until the receiving end at the other end of <paramref name="connection"/> is ready, only then creates buffer
    /// <paramref name="name"/> as its reader (so no writer can write what could not be forwarded), and forwards it as
    /// <see cref="SendAsync(RingReader, MessageConnection, CancellationToken)"/> does. The buffer is removed when this
    /// returns or throws; so is the connection.
    /// </summary>
    /// <exception cref="BridgeDeliveryException">The receiving end failed (before it was ready: the buffer was never
    /// created), closed or broke the connection, or confirmed fewer frames than were sent.</exception>
    /// <exception cref="WriterGoneException">The near writer died without disconnecting.</exception>
    /// <exception cref="InvalidNameException">The name is not allowed (checked before anything else).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (checked before anything else).</exception>
    public static async Task<RingBridgeResult> SendAsync(MessageConnection connection, string name, ReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        RingReader.Validate(name, options);
        var replies = new ReceiverReplies(connection);
        try
        {
            await replies.WaitUntilReadyAsync(name, bufferCreated: false, cancellationToken).ConfigureAwait(false);
            using var reader = new RingReader(name, options ?? new ReaderOptions());
            return await ForwardAsync(reader, connection, replies, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static async Task<RingBridgeResult> ForwardAsync(RingReader reader, MessageConnection connection, ReceiverReplies replies, CancellationToken cancellationToken)
    {
        // A reply before the end of the stream can only be a failure: it stops the forwarding wherever it waits.
        using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        replies.StopWhenAnswered(stop);
        bool metadataSent = false;
        byte[] sequenceBody = new byte[RingBridgeProtocol.SequenceLength];
        long frames = 0, bytes = 0;
        try
        {
            while (true)
            {
                if (!metadataSent && reader.HasMetadata)
                {
                    await SendMetadataAsync(reader, connection, stop.Token).ConfigureAwait(false);
                    metadataSent = true;
                }
                ReadResult result = await reader.TryReadAsync(metadataSent ? Timeout.InfiniteTimeSpan : s_metadataPollInterval, stop.Token).ConfigureAwait(false);
                switch (result.Status)
                {
                    case ReadStatus.Success:
                        // Counted once taken: from here on it is the bridge's to deliver or to report lost.
                        frames++;
                        bytes += result.Frame.Length;
                        if (!metadataSent && reader.HasMetadata)
                        {
                            // Metadata the writer set just before this frame goes first, as it went first into the near ring.
                            try
                            {
                                await SendMetadataAsync(reader, connection, stop.Token).ConfigureAwait(false);
                            }
                            catch
                            {
                                result.Frame.Dispose();
                                throw;
                            }
                            metadataSent = true;
                        }
                        RingBridgeProtocol.WriteSequence(sequenceBody, result.Frame.Sequence);
                        // The message owns the frame: disposing it releases the frame, once the frame's bytes are on the wire.
                        using (Message message = Message.CreateBuilder().WithBody(sequenceBody).AddPart(result.Frame).Build())
                        {
                            await connection.SendAsync(message, stop.Token).ConfigureAwait(false);
                        }
                        break;
                    case ReadStatus.TimedOut:
                        break;
                    case ReadStatus.WriterDisconnected:
                        if (!metadataSent && reader.HasMetadata)
                        {
                            await SendMetadataAsync(reader, connection, stop.Token).ConfigureAwait(false);
                        }
                        using (Message end = Message.Create(RingBridgeProtocol.EndTag.ToArray()))
                        {
                            await connection.SendAsync(end, stop.Token).ConfigureAwait(false);
                        }
                        Reply reply = await replies.Answer.WaitAsync(cancellationToken).ConfigureAwait(false);
                        if (reply.Kind != ReplyKind.Delivered || reply.Count != frames)
                        {
                            throw NotDelivered(reply, reader.Name, frames);
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
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && replies.Answer.IsCompleted)
        {
            throw NotDelivered(await replies.Answer.ConfigureAwait(false), reader.Name, frames);
        }
        catch (ZeroLaneException exception) when (exception is MessageConnectionException or MessageConnectionFaultedException)
        {
            // The connection broke while sending: the receiver's reason may be on its way.
            Reply reply = await replies.AnswerWithinAsync(s_failureGrace, exception).ConfigureAwait(false);
            throw NotDelivered(reply, reader.Name, frames, exception);
        }
    }

    /// <summary>
    /// Writes what a <see cref="SendAsync(RingReader, MessageConnection, CancellationToken)"/> at the other end of
    /// <paramref name="connection"/> forwards into <paramref name="writer"/>: first replies "ready", then writes the metadata
    /// and each frame, received straight into a loan of the buffer. When the stream ends, disconnects
    /// <paramref name="writer"/> (disposes it), replies "delivered" with the count of frames, and closes the connection.
    /// If anything fails on the way, replies "failed" with the exception's message and the count of frames written before
    /// rethrowing, so the sender can say what was lost. Frames and metadata larger than the buffer takes are refused
    /// before anything is allocated.
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
            using (Message ready = Message.Create(RingBridgeProtocol.ReadyTag.ToArray()))
            {
                await connection.SendAsync(ready, cancellationToken).ConfigureAwait(false);
            }
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
                        // Disconnect the writer before confirming: when the sender sees the count, the reader here has it all.
                        writer.Dispose();
                        using (Message delivered = Message.Create(RingBridgeProtocol.CountedReply(RingBridgeProtocol.DeliveredTag, frames)))
                        {
                            await connection.SendAsync(delivered, cancellationToken).ConfigureAwait(false);
                        }
                        await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
                        return new RingBridgeResult(frames, bytes);
                    default:
                        throw NotTheProtocol();
                }
            }
        }
        catch (Exception exception)
        {
            string reason = exception is OperationCanceledException ? "the receiving end was stopped" : exception.Message;
            await FailAsync(connection, frames, reason).ConfigureAwait(false);
            throw;
        }
        finally
        {
            destination.Abandon();
        }
    }

    /// <summary>
    /// Tells the sender at the other end of <paramref name="connection"/> that this end cannot take its stream (the
    /// "failed" reply, with <paramref name="reason"/> and no frame written), then closes the connection. For a receiving
    /// end that cannot connect its writer, say; the sender then never creates its buffer, or stops reading it.
    /// </summary>
    public static Task RefuseAsync(MessageConnection connection, string reason)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        return FailAsync(connection, 0, reason);
    }

    /// <summary>Best effort: the "failed" reply, then a close that does not reset the connection over unread frames.</summary>
    private static async Task FailAsync(MessageConnection connection, long frames, string reason)
    {
        try
        {
            byte[] text = Encoding.UTF8.GetBytes(reason.Length > RingBridgeProtocol.MaxReasonLength / 4 ? reason[..(RingBridgeProtocol.MaxReasonLength / 4)] : reason);
            using Message failed = Message.Create(RingBridgeProtocol.CountedReply(RingBridgeProtocol.FailedTag, frames), text);
            await connection.SendAsync(failed, s_failureGrace).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is ZeroLaneException or TimeoutException or ObjectDisposedException or IOException or SocketException)
        {
            // The sender is gone or not listening: there is no one left to tell.
        }
        await connection.CloseDiscardingAsync(s_failureGrace).ConfigureAwait(false);
    }

    /// <summary>
    /// The sender's failure: what the receiving end answered (or how the connection ended), then how many of the
    /// <paramref name="forwarded"/> frames taken from buffer <paramref name="name"/> were lost, or instead
    /// <paramref name="notReady"/> when the receiving end never said it was ready.
    /// </summary>
    private static BridgeDeliveryException NotDelivered(Reply reply, string name, long forwarded, Exception? inner = null, string? notReady = null)
    {
        long delivered = reply.Kind is ReplyKind.Delivered or ReplyKind.Failed ? Math.Min(reply.Count, forwarded) : 0;
        string what = reply.Kind switch
        {
            ReplyKind.Failed => $"The receiving end failed: {reply.Reason!.TrimEnd('.')}.",
            ReplyKind.Delivered => $"The receiving end confirmed {reply.Count} frames where {forwarded} were sent.",
            ReplyKind.Closed => "The receiving end closed the connection without confirming delivery (it was stopped or failed: see its output).",
            ReplyKind.Broken => $"The connection to the receiving end broke: {reply.Error!.Message.TrimEnd('.')}.",
            _ => "The receiving end sent a reply that is not part of the ring bridge protocol; is it a ring bridge receiver " +
                "('zerolane bridge receive') of the same version?",
        };
        string lost = notReady ?? (forwarded == 0
            ? $" No frame had been taken from buffer '{name}'."
            : reply.Kind is ReplyKind.Delivered or ReplyKind.Failed
                ? $" {forwarded - delivered} of the {forwarded} frames taken from buffer '{name}' were not delivered ({delivered} were)."
                : $" None of the {forwarded} frames taken from buffer '{name}' was confirmed delivered.");
        return new BridgeDeliveryException(what + lost, forwarded, delivered, inner ?? reply.Error);
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

    private enum ReplyKind
    {
        Delivered,
        Failed,
        Closed,
        Broken,
        NotTheProtocol,
    }

    /// <summary>How the receiving end answered: its count and reason, or how the connection ended without an answer.</summary>
    private readonly record struct Reply(ReplyKind Kind, long Count = 0, string? Reason = null, Exception? Error = null);

    /// <summary>
    /// The sender's side of the replies: a receive that runs beside the forwarding from the start, notes "ready", and
    /// ends with the receiving end's answer ("delivered", "failed", or the connection ending without one).
    /// </summary>
    private sealed class ReceiverReplies
    {
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal ReceiverReplies(MessageConnection connection)
        {
            connection.Receiver.Limits = new MessageLimits
            {
                MaxMessageLength = MessageEncoding.HeaderSize(1) + RingBridgeProtocol.CountedReplyLength + RingBridgeProtocol.MaxReasonLength,
                MaxParts = 1,
            };
            Answer = WatchAsync(connection);
        }

        /// <summary>Completes with the receiving end's answer; never faults (a broken connection is an answer too).</summary>
        internal Task<Reply> Answer { get; }

        internal async Task WaitUntilReadyAsync(string name, bool bufferCreated, CancellationToken cancellationToken)
        {
            await Task.WhenAny(_ready.Task, Answer).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!_ready.Task.IsCompleted)
            {
                throw NotDelivered(await Answer.ConfigureAwait(false), name, 0, notReady: bufferCreated
                    ? $" No frame was taken from buffer '{name}'."
                    : $" Buffer '{name}' was not created, so nothing could be written to it.");
            }
        }

        /// <summary>Cancels <paramref name="stop"/> once an answer arrives (if it is still in use).</summary>
        internal void StopWhenAnswered(CancellationTokenSource stop) =>
            _ = Answer.ContinueWith(static (_, state) => CancelQuietly((CancellationTokenSource)state!), stop,
                CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

        internal async Task<Reply> AnswerWithinAsync(TimeSpan limit, Exception brokenBy)
        {
            try
            {
                return await Answer.WaitAsync(limit).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return new Reply(ReplyKind.Broken, Error: brokenBy);
            }
        }

        private static void CancelQuietly(CancellationTokenSource source)
        {
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The forwarding is over already.
            }
        }

        private async Task<Reply> WatchAsync(MessageConnection connection)
        {
            bool ready = false;
            try
            {
                while (true)
                {
                    ReceiveResult result = await connection.Receiver.TryReceiveAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
                    if (result.Status != ReceiveStatus.Success)
                    {
                        return new Reply(ReplyKind.Closed);
                    }
                    using Message message = result.Message!;
                    switch (RingBridgeProtocol.ReplyKindOf(message.Body.Span, message.PartCount))
                    {
                        case RingBridgeProtocol.ReplyKind.Ready when !ready:
                            ready = true;
                            _ready.TrySetResult();
                            break;
                        case RingBridgeProtocol.ReplyKind.Delivered when ready:
                            return new Reply(ReplyKind.Delivered, RingBridgeProtocol.ReadCount(message.Body.Span));
                        case RingBridgeProtocol.ReplyKind.Failed:
                            return new Reply(ReplyKind.Failed, RingBridgeProtocol.ReadCount(message.Body.Span),
                                Encoding.UTF8.GetString(message.GetPart(0).Span));
                        default:
                            return new Reply(ReplyKind.NotTheProtocol);
                    }
                }
            }
            catch (Exception exception) when (exception is ZeroLaneException or IOException or SocketException or ObjectDisposedException)
            {
                return new Reply(ReplyKind.Broken, Error: exception);
            }
        }
    }
}
