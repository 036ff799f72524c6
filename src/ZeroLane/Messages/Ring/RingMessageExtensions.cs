using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using ZeroLane.Buffers;

namespace ZeroLane.Messages;

/// <summary>
/// Messages through a shared-memory ring: one ring frame carries one message frame, byte for byte the same
/// as on a socket (length prefix included), see <see cref="MessageFrame"/>.
/// </summary>
/// <remarks>
/// Design: the writer loans exactly the message's frame length, writes the header into the loan and copies
/// each segment once into place, then commits: one copy per segment and no allocation (use
/// <see cref="BeginMessage"/> to produce the parts in the ring and copy nothing). The reader decodes the frame
/// in place: the message's body and parts are slices of the shared memory, and disposing the message releases
/// the frame; any later access through the message or memory obtained from it throws
/// <see cref="ObjectDisposedException"/>.
/// </remarks>
public static class RingMessageExtensions
{
    /// <summary>Writes <paramref name="message"/> as one ring frame, waiting at most <paramref name="timeout"/> for space.</summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The message's frame can never fit in this ring.</exception>
    public static void WriteMessage(this RingWriter writer, Message message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryWriteMessage(writer, message, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            ThrowForStatus(writer, status, timeout);
        }
    }

    /// <summary>Writes <paramref name="message"/> as one ring frame, waiting as long as it takes for space.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The message's frame can never fit in this ring.</exception>
    public static void WriteMessage(this RingWriter writer, Message message, CancellationToken cancellationToken = default) =>
        WriteMessage(writer, message, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Writes <paramref name="message"/> as one ring frame if space frees up within <paramref name="timeout"/>.
    /// Expected outcomes (timeout, reader gone) are returned; nothing is written unless the result is
    /// <see cref="WriteStatus.Success"/>. The caller may reuse the message's segments as soon as this returns.
    /// </summary>
    /// <exception cref="FrameTooLargeException">The message's frame can never fit in this ring.</exception>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public static WriteStatus TryWriteMessage(this RingWriter writer, Message message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        int total = CheckedFrameLength(writer, message);
        WriteStatus status = writer.TryLoan(total, out FrameLoan loan, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        FillAndCommit(loan, message, total);
        return WriteStatus.Success;
    }

    /// <summary>Writes <paramref name="message"/> as one ring frame, waiting for space without blocking a thread-pool thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The message's frame can never fit in this ring.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask WriteMessageAsync(this RingWriter writer, Message message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        int total = CheckedFrameLength(writer, message);
        FrameLoan loan = await writer.LoanAsync(total, cancellationToken).ConfigureAwait(false);
        FillAndCommit(loan, message, total);
    }

    /// <summary>
    /// Loans one ring frame for a message of a body of <paramref name="bodyLength"/> bytes and parts of
    /// <paramref name="partLengths"/> bytes, with the header already written: fill <see cref="MessageLoan.Body"/>
    /// and <see cref="MessageLoan.GetPart"/> in place, then <see cref="MessageLoan.Commit"/>. Nothing is copied.
    /// </summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The message's frame can never fit in this ring.</exception>
    public static MessageLoan BeginMessage(this RingWriter writer, int bodyLength, ReadOnlySpan<int> partLengths, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryBeginMessage(writer, bodyLength, partLengths, out MessageLoan loan, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            ThrowForStatus(writer, status, timeout);
        }
        return loan;
    }

    /// <summary>Like <see cref="BeginMessage"/>, but returns timeouts and a gone reader instead of throwing.</summary>
    /// <exception cref="FrameTooLargeException">The message's frame can never fit in this ring.</exception>
    public static WriteStatus TryBeginMessage(this RingWriter writer, int bodyLength, ReadOnlySpan<int> partLengths, out MessageLoan loan, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfNegative(bodyLength);
        long total = MessageFrame.HeaderSize(partLengths.Length) + (long)bodyLength;
        foreach (int partLength in partLengths)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(partLength, nameof(partLengths));
            total += partLength;
        }
        ThrowIfTooLarge(writer, total);
        WriteStatus status = writer.TryLoan((int)total, out FrameLoan frameLoan, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            loan = default;
            return status;
        }
        loan = new MessageLoan(frameLoan, (int)total, bodyLength, partLengths);
        return WriteStatus.Success;
    }

    /// <summary>Reads the next message, waiting at most <paramref name="timeout"/>. Dispose the message to release its ring frame.</summary>
    /// <exception cref="TimeoutException">No frame arrived in time.</exception>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="MessageFrameException">The frame is not a valid message; it has been released.</exception>
    public static Message ReadMessage(this RingReader reader, TimeSpan timeout, MessageFrameLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Frame frame = reader.Read(timeout, cancellationToken);
        return DecodeFrame(frame, limits ?? MessageFrameLimits.Default);
    }

    /// <summary>
    /// Reads the next message if a frame arrives within <paramref name="timeout"/>; expected failures (timeout,
    /// writer gone) are returned, not thrown. On success, dispose <paramref name="message"/> to release its ring frame.
    /// </summary>
    /// <exception cref="MessageFrameException">The frame is not a valid message; it has been released.</exception>
    public static ReadStatus TryReadMessage(this RingReader reader, [NotNullWhen(true)] out Message? message, TimeSpan timeout,
        MessageFrameLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ReadStatus status = reader.TryRead(out Frame frame, timeout, cancellationToken);
        message = status == ReadStatus.Success ? DecodeFrame(frame, limits ?? MessageFrameLimits.Default) : null;
        return status;
    }

    /// <summary>
    /// Reads the next message into a <see cref="MessageView"/>, allocating nothing: for receive loops that must not
    /// allocate per message. Expected failures (timeout, writer gone) are returned, not thrown. On success, dispose
    /// <paramref name="message"/> to release its ring frame.
    /// </summary>
    /// <exception cref="MessageFrameException">The frame is not a valid message; it has been released.</exception>
    public static ReadStatus TryReadMessageView(this RingReader reader, out MessageView message, TimeSpan timeout,
        MessageFrameLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ReadStatus status = reader.TryRead(out Frame frame, timeout, cancellationToken);
        message = status == ReadStatus.Success ? ViewFrame(frame, limits ?? MessageFrameLimits.Default) : default;
        return status;
    }

    /// <summary>
    /// Sees a ring frame holding a message frame as a <see cref="MessageView"/>, in place and without allocating. The view
    /// owns the frame; if the frame is not a valid message it is released and the exception thrown.
    /// </summary>
    /// <exception cref="MessageFrameException">The frame is not a valid message.</exception>
    public static MessageView ViewFrame(Frame frame, MessageFrameLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            ReadOnlySpan<byte> message = MessageBytes(frame, limits);
            (int partCount, int headerLength, int bodyLength) = MessageFrame.Validate(message, limits);
            return new MessageView(frame, partCount, headerLength, bodyLength);
        }
        catch
        {
            frame.Dispose();
            throw;
        }
    }

    /// <summary>The bytes after the prefix, once the prefix is checked against the frame's length.</summary>
    private static ReadOnlySpan<byte> MessageBytes(Frame frame, MessageFrameLimits limits)
    {
        if (frame.Length < MessageFrame.PrefixSize)
        {
            throw new MessageFrameException($"A ring frame of {frame.Length} bytes is too short to hold a message's {MessageFrame.PrefixSize}-byte length prefix.");
        }
        ReadOnlySpan<byte> span = frame.Span;
        long announced = MessageFrame.ReadPrefix(span, limits);
        if (announced != frame.Length - MessageFrame.PrefixSize)
        {
            throw new MessageFrameException($"A ring frame of {frame.Length} bytes holds a message whose prefix announces {announced} bytes after it, " +
                $"not {frame.Length - MessageFrame.PrefixSize}: the frame was not written as one message.");
        }
        return span[MessageFrame.PrefixSize..];
    }

    /// <summary>Reads the next message without blocking a thread-pool thread. Dispose the message to release its ring frame.</summary>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="MessageFrameException">The frame is not a valid message; it has been released.</exception>
    public static async ValueTask<Message> ReadMessageAsync(this RingReader reader, MessageFrameLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Frame frame = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return DecodeFrame(frame, limits ?? MessageFrameLimits.Default);
    }

    /// <summary>
    /// Decodes a ring frame holding a message frame, in place. The message owns the frame: disposing it
    /// releases the frame. If the frame is not a valid message it is released and the exception thrown.
    /// </summary>
    /// <exception cref="MessageFrameException">The frame is not a valid message.</exception>
    public static Message DecodeFrame(Frame frame, MessageFrameLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            MessageBytes(frame, limits);
            return MessageFrame.Decode(frame.Memory[MessageFrame.PrefixSize..], limits, new FrameRelease(frame));
        }
        catch
        {
            frame.Dispose();
            throw;
        }
    }

    private static int CheckedFrameLength(RingWriter writer, Message message)
    {
        long total = MessageFrame.TotalLength(message);
        ThrowIfTooLarge(writer, total);
        return (int)total;
    }

    private static void ThrowIfTooLarge(RingWriter writer, long total)
    {
        if (total > writer.MaxFrameLength)
        {
            ThrowTooLarge(writer, total);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooLarge(RingWriter writer, long total) =>
        throw new FrameTooLargeException($"A message frame of {total} bytes (header, body and parts) does not fit buffer '{writer.Name}', " +
            $"which takes frames of at most {writer.MaxFrameLength} bytes. Use a larger payload block or send the data in several messages.");

    /// <summary>Header into the loan, each segment copied once into place, commit; abandons the loan if anything throws.</summary>
    private static void FillAndCommit(FrameLoan loan, Message message, int total)
    {
        try
        {
            Span<byte> destination = loan.Span;
            int offset = MessageFrame.WriteHeader(message, destination);
            ReadOnlySpan<byte> body = message.Body.Span;
            body.CopyTo(destination[offset..]);
            offset += body.Length;
            foreach (ReadOnlyMemory<byte> part in message.Parts)
            {
                part.Span.CopyTo(destination[offset..]);
                offset += part.Length;
            }
            // A part mapped from a file that shrank meanwhile was copied as zeros: do not publish it.
            message.ThrowIfContentLost();
            loan.Commit(total);
        }
        finally
        {
            // Abandons the loan if the commit did not happen; harmless after it.
            loan.Dispose();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowForStatus(RingWriter writer, WriteStatus status, TimeSpan timeout) => throw (status switch
    {
        WriteStatus.TimedOut => new TimeoutException($"No space for a message became free in buffer '{writer.Name}' within {timeout}."),
        WriteStatus.ReaderGone => new ReaderGoneException($"The reader of buffer '{writer.Name}' is gone."),
        _ => new InvalidOperationException($"Unexpected write status {status}."),
    });

    /// <summary>Releases the ring frame a received message lives in.</summary>
    private sealed class FrameRelease(Frame frame) : IDisposable
    {
        public void Dispose() => frame.Dispose();
    }
}
