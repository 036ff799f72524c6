using System.Runtime.CompilerServices;

namespace ZeroLane.Messages;

/// <summary>
/// A message read from shared memory (any <see cref="IFrameSource"/>), seen in place in its frame without allocating: the allocation-free counterpart of
/// <see cref="Message"/> for receive loops that must not allocate per message. Dispose it to release the frame.
/// </summary>
/// <remarks>
/// Design: a struct over the <see cref="Frame"/> and the counts the header was validated with (at read time, in
/// full: flags, part count, lengths adding up to the frame). The body and parts are spans into the frame, worked out
/// from the header's lengths when asked for (part <c>i</c> costs a sum over the <c>i</c> lengths before it). After
/// <see cref="Dispose"/>, or once the frame is released another way, every accessor throws
/// <see cref="ObjectDisposedException"/>, as the frame does. Copies of the struct share the frame: dispose one.
/// </remarks>
public readonly struct MessageView : IDisposable
{
    private readonly Frame _frame;
    private readonly int _headerEnd;
    private readonly int _bodyLength;

    internal MessageView(Frame frame, int partCount, int headerLength, int bodyLength)
    {
        _frame = frame;
        PartCount = partCount;
        _headerEnd = MessageEncoding.PrefixSize + headerLength;
        _bodyLength = bodyLength;
    }

    /// <summary>The frame's sequence number.</summary>
    public ulong Sequence => _frame.Sequence;

    /// <summary>Number of parts.</summary>
    public int PartCount { get; }

    /// <summary>Bytes of the body and all parts together.</summary>
    public long Length => _frame.Length - _headerEnd;

    /// <summary>True once the frame has been released (or for a default instance).</summary>
    public bool IsReleased => _frame.IsReleased;

    /// <summary>The body, in place in shared memory.</summary>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public ReadOnlySpan<byte> Body => _frame.Span.Slice(_headerEnd, _bodyLength);

    /// <summary>Part <paramref name="index"/>, in place in shared memory.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="PartCount"/>.</exception>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public ReadOnlySpan<byte> GetPart(int index)
    {
        if ((uint)index >= (uint)PartCount)
        {
            ThrowPartIndex(index);
        }
        ReadOnlySpan<byte> frame = _frame.Span;
        ReadOnlySpan<byte> header = frame[MessageEncoding.PrefixSize..];
        int offset = _headerEnd + _bodyLength;
        for (int i = 0; i < index; i++)
        {
            offset += MessageEncoding.PartLength(header, i);
        }
        return frame.Slice(offset, MessageEncoding.PartLength(header, index));
    }

    /// <summary>Releases the frame. Disposing twice does nothing.</summary>
    public void Dispose() => _frame.Dispose();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowPartIndex(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"The message has {PartCount} parts.");
}
