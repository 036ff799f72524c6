using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ZeroLane.Messages;

/// <summary>
/// Messages through shared memory: one frame of any <see cref="IFrameSink"/> (a ring's writer, ...) carries one encoded
/// message, byte for byte the same as on a socket (length prefix included, see <see cref="MessageEncoding"/>), and any
/// <see cref="IFrameSource"/> reads it back in place.
/// </summary>
/// <remarks>
/// Design: the writer loans exactly the encoded message's length, writes the header into the loan and copies each
/// segment once into place, then commits: one copy per segment and no allocation (use <see cref="BeginMessage"/> to
/// produce the parts in shared memory and copy nothing). The reader decodes the frame in place: the message's body and
/// parts are slices of the shared memory, and disposing the message releases the frame; any later access through the
/// message or memory obtained from it throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public static class FrameMessages
{
    /// <summary>Writes <paramref name="message"/> as one frame, waiting at most <paramref name="timeout"/> for space.</summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The encoded message can never fit in a frame of this sink.</exception>
    public static void WriteMessage(this IFrameSink sink, Message message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryWriteMessage(sink, message, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            throw ThrowHelper.WriteFailed(status, sink.Name, timeout);
        }
    }

    /// <summary>Writes <paramref name="message"/> as one frame, waiting as long as it takes for space.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The encoded message can never fit in a frame of this sink.</exception>
    public static void WriteMessage(this IFrameSink sink, Message message, CancellationToken cancellationToken = default) =>
        WriteMessage(sink, message, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Writes <paramref name="message"/> as one frame if space frees up within <paramref name="timeout"/>. Expected outcomes
    /// (timeout, reader gone) are returned; nothing is written unless the result is <see cref="WriteStatus.Success"/>. The
    /// caller may reuse the message's segments as soon as this returns.
    /// </summary>
    /// <exception cref="FrameTooLargeException">The encoded message can never fit in a frame of this sink.</exception>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public static WriteStatus TryWriteMessage(this IFrameSink sink, Message message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(message);
        int total = CheckedLength(sink, message);
        WriteStatus status = sink.TryLoan(total, out FrameLoan loan, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        FillAndCommit(loan, message, total);
        return WriteStatus.Success;
    }

    /// <summary>Writes <paramref name="message"/> as one frame, waiting for space without blocking a thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The encoded message can never fit in a frame of this sink.</exception>
    public static ValueTask WriteMessageAsync(this IFrameSink sink, Message message, CancellationToken cancellationToken = default) =>
        WriteMessageAsync(sink, message, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Writes <paramref name="message"/> as one frame, waiting at most <paramref name="timeout"/> for space without blocking a thread.</summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The encoded message can never fit in a frame of this sink.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask WriteMessageAsync(this IFrameSink sink, Message message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(message);
        int total = CheckedLength(sink, message);
        LoanResult result = await sink.TryLoanAsync(total, timeout, cancellationToken).ConfigureAwait(false);
        if (result.Status != WriteStatus.Success)
        {
            throw ThrowHelper.WriteFailed(result.Status, sink.Name, timeout);
        }
        FillAndCommit(result.Loan, message, total);
    }

    /// <summary>
    /// Loans one frame for a message of a body of <paramref name="bodyLength"/> bytes and parts of
    /// <paramref name="partLengths"/> bytes, with the header already written: fill <see cref="MessageLoan.Body"/>
    /// and <see cref="MessageLoan.GetPart"/> in place, then <see cref="MessageLoan.Commit"/>. Nothing is copied.
    /// </summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The encoded message can never fit in a frame of this sink.</exception>
    public static MessageLoan BeginMessage(this IFrameSink sink, int bodyLength, ReadOnlySpan<int> partLengths, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryBeginMessage(sink, bodyLength, partLengths, out MessageLoan loan, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            throw ThrowHelper.WriteFailed(status, sink.Name, timeout);
        }
        return loan;
    }

    /// <summary>Like <see cref="BeginMessage"/>, but returns timeouts and a gone reader instead of throwing.</summary>
    /// <exception cref="FrameTooLargeException">The encoded message can never fit in a frame of this sink.</exception>
    public static WriteStatus TryBeginMessage(this IFrameSink sink, int bodyLength, ReadOnlySpan<int> partLengths, out MessageLoan loan, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfNegative(bodyLength);
        long total = MessageEncoding.HeaderSize(partLengths.Length) + (long)bodyLength;
        foreach (int partLength in partLengths)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(partLength, nameof(partLengths));
            total += partLength;
        }
        ThrowIfTooLarge(sink, total);
        WriteStatus status = sink.TryLoan((int)total, out FrameLoan frameLoan, timeout, cancellationToken);
        if (status != WriteStatus.Success)
        {
            loan = default;
            return status;
        }
        loan = new MessageLoan(frameLoan, (int)total, bodyLength, partLengths);
        return WriteStatus.Success;
    }

    /// <summary>Reads the next message, waiting as long as it takes. Dispose the message to release its frame.</summary>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="MessageFormatException">The frame is not a valid message; it has been released.</exception>
    public static Message ReadMessage(this IFrameSource source, CancellationToken cancellationToken = default) =>
        ReadMessage(source, Timeout.InfiniteTimeSpan, null, cancellationToken);

    /// <summary>Reads the next message, waiting at most <paramref name="timeout"/>. Dispose the message to release its frame.</summary>
    /// <exception cref="TimeoutException">No frame arrived in time.</exception>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="MessageFormatException">The frame is not a valid message; it has been released.</exception>
    public static Message ReadMessage(this IFrameSource source, TimeSpan timeout, MessageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ReadStatus status = TryReadMessage(source, out Message? message, timeout, limits, cancellationToken);
        return status == ReadStatus.Success ? message! : throw ThrowHelper.ReadFailed(status, source.Name, timeout);
    }

    /// <summary>
    /// Reads the next message if a frame arrives within <paramref name="timeout"/>; expected failures (timeout,
    /// writer gone) are returned, not thrown. On success, dispose <paramref name="message"/> to release its frame.
    /// </summary>
    /// <exception cref="MessageFormatException">The frame is not a valid message; it has been released.</exception>
    public static ReadStatus TryReadMessage(this IFrameSource source, [NotNullWhen(true)] out Message? message, TimeSpan timeout,
        MessageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ReadStatus status = source.TryRead(out Frame frame, timeout, cancellationToken);
        message = status == ReadStatus.Success ? DecodeFrame(frame, limits ?? MessageLimits.Default) : null;
        return status;
    }

    /// <summary>
    /// Reads the next message into a <see cref="MessageView"/>, allocating nothing: for receive loops that must not
    /// allocate per message. Expected failures (timeout, writer gone) are returned, not thrown. On success, dispose
    /// <paramref name="message"/> to release its frame.
    /// </summary>
    /// <exception cref="MessageFormatException">The frame is not a valid message; it has been released.</exception>
    public static ReadStatus TryReadMessageView(this IFrameSource source, out MessageView message, TimeSpan timeout,
        MessageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ReadStatus status = source.TryRead(out Frame frame, timeout, cancellationToken);
        message = status == ReadStatus.Success ? ViewFrame(frame, limits ?? MessageLimits.Default) : default;
        return status;
    }

    /// <summary>Reads the next message without blocking a thread while it waits. Dispose the message to release its frame.</summary>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="MessageFormatException">The frame is not a valid message; it has been released.</exception>
    public static ValueTask<Message> ReadMessageAsync(this IFrameSource source, CancellationToken cancellationToken = default) =>
        ReadMessageAsync(source, Timeout.InfiniteTimeSpan, null, cancellationToken);

    /// <summary>Reads the next message, waiting at most <paramref name="timeout"/> without blocking a thread. Dispose the message to release its frame.</summary>
    /// <exception cref="TimeoutException">No frame arrived in time.</exception>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="MessageFormatException">The frame is not a valid message; it has been released.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<Message> ReadMessageAsync(this IFrameSource source, TimeSpan timeout, MessageLimits? limits = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ReadResult result = await source.TryReadAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (result.Status != ReadStatus.Success)
        {
            throw ThrowHelper.ReadFailed(result.Status, source.Name, timeout);
        }
        return DecodeFrame(result.Frame, limits ?? MessageLimits.Default);
    }

    /// <summary>
    /// Sees a frame holding an encoded message as a <see cref="MessageView"/>, in place and without allocating. The view
    /// owns the frame; if the frame is not a valid message it is released and the exception thrown.
    /// </summary>
    /// <exception cref="MessageFormatException">The frame is not a valid message.</exception>
    public static MessageView ViewFrame(Frame frame, MessageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            ReadOnlySpan<byte> message = MessageBytes(frame, limits);
            (int partCount, int headerLength, int bodyLength) = MessageEncoding.Validate(message, limits);
            return new MessageView(frame, partCount, headerLength, bodyLength);
        }
        catch
        {
            frame.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes a frame holding an encoded message, in place. The message owns the frame: disposing it releases the frame.
    /// If the frame is not a valid message it is released and the exception thrown.
    /// </summary>
    /// <exception cref="MessageFormatException">The frame is not a valid message.</exception>
    public static Message DecodeFrame(Frame frame, MessageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            MessageBytes(frame, limits);
            return MessageEncoding.Decode(frame.Memory[MessageEncoding.PrefixSize..], limits, new FrameRelease(frame));
        }
        catch
        {
            frame.Dispose();
            throw;
        }
    }

    /// <summary>The bytes after the prefix, once the prefix is checked against the frame's length.</summary>
    private static ReadOnlySpan<byte> MessageBytes(Frame frame, MessageLimits limits)
    {
        if (frame.Length < MessageEncoding.PrefixSize)
        {
            throw new MessageFormatException($"A frame of {frame.Length} bytes is too short to hold a message's {MessageEncoding.PrefixSize}-byte length prefix.");
        }
        ReadOnlySpan<byte> span = frame.Span;
        long announced = MessageEncoding.ReadPrefix(span, limits);
        if (announced != frame.Length - MessageEncoding.PrefixSize)
        {
            throw new MessageFormatException($"A frame of {frame.Length} bytes holds a message whose prefix announces {announced} bytes after it, " +
                $"not {frame.Length - MessageEncoding.PrefixSize}: the frame was not written as one message.");
        }
        return span[MessageEncoding.PrefixSize..];
    }

    private static int CheckedLength(IFrameSink sink, Message message)
    {
        long total = MessageEncoding.TotalLength(message);
        ThrowIfTooLarge(sink, total);
        return (int)total;
    }

    private static void ThrowIfTooLarge(IFrameSink sink, long total)
    {
        if (total > sink.MaxFrameLength)
        {
            ThrowTooLarge(sink, total);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooLarge(IFrameSink sink, long total) =>
        throw new FrameTooLargeException($"An encoded message of {total} bytes (header, body and parts) does not fit '{sink.Name}', " +
            $"which takes frames of at most {sink.MaxFrameLength} bytes. Use a larger payload block or send the data in several messages.");

    /// <summary>
    /// The encoded message (prefix, header, body, parts) into <paramref name="destination"/>, each segment copied once;
    /// returns its length. Throws if a mapped part lost its content meanwhile (its bytes were copied as zeros).
    /// </summary>
    internal static int Encode(Message message, Span<byte> destination)
    {
        int offset = MessageEncoding.WriteHeader(message, destination);
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
        return offset;
    }

    /// <summary>Header into the loan, each segment copied once into place, commit; abandons the loan if anything throws.</summary>
    private static void FillAndCommit(FrameLoan loan, Message message, int total)
    {
        try
        {
            Encode(message, loan.Span);
            loan.Commit(total);
        }
        finally
        {
            // Abandons the loan if the commit did not happen; harmless after it.
            loan.Dispose();
        }
    }

    /// <summary>Releases the frame a received message lives in.</summary>
    private sealed class FrameRelease(Frame frame) : IDisposable
    {
        public void Dispose() => frame.Dispose();
    }
}
