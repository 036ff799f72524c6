using System.Buffers.Binary;

namespace ZeroLane.Messages;

/// <summary>
/// A message being produced directly in a frame: its header is already written, and the body and parts are spans of
/// the loaned shared memory. Fill them, then <see cref="Commit"/> the length of the last part written; nothing is
/// copied. Made by <see cref="FrameMessages.BeginMessage"/>.
/// </summary>
/// <remarks>
/// Like a <see cref="FrameLoan"/>, only one may be open per writer, and disposing it without committing
/// abandons it (nothing is published). Part offsets are read back from the header in the loan, so the
/// struct holds no array and nothing is allocated.
/// </remarks>
public readonly struct MessageLoan : IDisposable
{
    private readonly FrameLoan _loan;
    private readonly int _total;
    private readonly int _bodyLength;

    internal MessageLoan(FrameLoan loan, int total, int bodyLength, ReadOnlySpan<int> partLengths)
    {
        _loan = loan;
        _total = total;
        _bodyLength = bodyLength;
        PartCount = partLengths.Length;
        Span<byte> header = loan.Span;
        BinaryPrimitives.WriteUInt64BigEndian(header, (ulong)(total - MessageEncoding.PrefixSize));
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)partLengths.Length);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], 0);
        BinaryPrimitives.WriteUInt64BigEndian(header[16..], (ulong)bodyLength);
        for (int i = 0; i < partLengths.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(header[(24 + 8 * i)..], (ulong)partLengths[i]);
        }
    }

    /// <summary>Number of parts.</summary>
    public int PartCount { get; }

    /// <summary>The body, in place in the frame.</summary>
    /// <exception cref="ObjectDisposedException">The loan was committed or abandoned.</exception>
    public Span<byte> Body => _loan.Span.Slice(MessageEncoding.HeaderSize(PartCount), _bodyLength);

    /// <summary>Part <paramref name="index"/>, in place in the frame.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such part.</exception>
    /// <exception cref="ObjectDisposedException">The loan was committed or abandoned.</exception>
    public Span<byte> GetPart(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)PartCount, nameof(index));
        Span<byte> frame = _loan.Span;
        int offset = MessageEncoding.HeaderSize(PartCount) + _bodyLength;
        for (int i = 0; i < index; i++)
        {
            offset += (int)BinaryPrimitives.ReadUInt64BigEndian(frame[(24 + 8 * i)..]);
        }
        int length = (int)BinaryPrimitives.ReadUInt64BigEndian(frame[(24 + 8 * index)..]);
        return frame.Slice(offset, length);
    }

    /// <summary>
    /// Publishes the message to the reader, with its last segment (the last part, or the body when there are no parts)
    /// cut to the <paramref name="length"/> bytes actually written into it; every other segment is as declared. Pass the
    /// declared length to publish everything, or less when, say, an encoder filled the last part short.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or more than the last segment was declared with; the loan stays open.</exception>
    /// <exception cref="ObjectDisposedException">The loan was already committed or abandoned.</exception>
    public void Commit(int length)
    {
        Span<byte> frame = _loan.Span;
        int lengthField = PartCount == 0 ? 16 : 24 + 8 * (PartCount - 1);
        int declared = (int)BinaryPrimitives.ReadUInt64BigEndian(frame[lengthField..]);
        if ((uint)length > (uint)declared)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"The last {(PartCount == 0 ? "segment (the body)" : "part")} was declared with {declared} bytes; commit 0 to {declared}.");
        }
        int total = _total - (declared - length);
        if (length != declared)
        {
            BinaryPrimitives.WriteUInt64BigEndian(frame[lengthField..], (ulong)length);
            BinaryPrimitives.WriteUInt64BigEndian(frame, (ulong)(total - MessageEncoding.PrefixSize));
        }
        _loan.Commit(total);
    }

    /// <summary>Gives the space back without publishing anything.</summary>
    public void Abandon() => _loan.Abandon();

    /// <summary>Abandons the loan if it was not committed.</summary>
    public void Dispose() => _loan.Dispose();
}
