using System.Buffers;
using System.Buffers.Binary;

namespace ZeroLane.Messages;

/// <summary>
/// The encoded form of a message, the same on a stream and in a shared-memory frame, and its validating decoder.
/// </summary>
/// <remarks>
/// All integers big-endian:
/// <code>
/// 0        8          12         16            24                      24 + 8N
/// +--------+----------+----------+-------------+-----------------------+------+--------+-----+----------+
/// | length | parts N  | flags 0  | body length | part length × N (u64) | body | part 0 | ... | part N-1 |
/// +--------+----------+----------+-------------+-----------------------+------+--------+-----+----------+
///   u64      u32        u32        u64
/// </code>
/// <c>length</c> counts every byte after itself: 16 + 8N + body + all parts. A decoder checks the length
/// against its maximum before allocating anything, then the part count, then that the body and part lengths
/// add up to exactly the frame; any lie is a <see cref="MessageFormatException"/>.
/// </remarks>
public static class MessageEncoding
{
    /// <summary>Size of the u64 length prefix.</summary>
    public const int PrefixSize = 8;

    /// <summary>Part count, flags and body length: the fixed header after the prefix.</summary>
    public const int FixedHeaderSize = 16;

    /// <summary>Prefix and header size of a message with <paramref name="partCount"/> parts.</summary>
    public static int HeaderSize(int partCount) => PrefixSize + FixedHeaderSize + 8 * partCount;

    /// <summary>Bytes of the whole frame of <paramref name="message"/>, prefix included.</summary>
    public static long TotalLength(Message message) => HeaderSize(message.PartCount) + message.Length;

    /// <summary>Writes the prefix and header of <paramref name="message"/>; returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="HeaderSize"/>.</exception>
    public static int WriteHeader(Message message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        int size = HeaderSize(message.PartCount);
        if (destination.Length < size)
        {
            throw new ArgumentException($"The header of a message of {message.PartCount} parts takes {size} bytes.", nameof(destination));
        }
        BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)(size - PrefixSize + message.Length));
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)message.PartCount);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], 0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], (ulong)message.Body.Length);
        ReadOnlySpan<ReadOnlyMemory<byte>> parts = message.Parts;
        for (int i = 0; i < parts.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination[(24 + 8 * i)..], (ulong)parts[i].Length);
        }
        return size;
    }

    /// <summary>
    /// Reads and checks a length prefix: the number of bytes that follow it. Checked against
    /// <paramref name="limits"/> before anything is allocated.
    /// </summary>
    /// <exception cref="MessageFormatException">The length is below the fixed header or above the maximum.</exception>
    public static long ReadPrefix(ReadOnlySpan<byte> prefix, MessageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (prefix.Length < PrefixSize)
        {
            throw new MessageFormatException($"A message's length prefix needs {PrefixSize} bytes; only {prefix.Length} arrived: the stream ended in the middle of it.");
        }
        ulong length = BinaryPrimitives.ReadUInt64BigEndian(prefix);
        if (length < FixedHeaderSize)
        {
            throw new MessageFormatException($"A message announced {length} bytes, fewer than the {FixedHeaderSize}-byte header every message has: the stream is corrupt or not a ZeroLane message stream.");
        }
        if (length > (ulong)limits.MaxMessageLength)
        {
            throw new MessageFormatException($"A message announced {length} bytes, more than the maximum of {limits.MaxMessageLength} (MessageLimits.MaxMessageLength). Nothing was allocated; raise the limit if such messages are expected.");
        }
        return (long)length;
    }

    /// <summary>
    /// Makes a message from the bytes after a prefix: body and parts become slices of <paramref name="frame"/>
    /// (no copy). <paramref name="owner"/>, if given, is disposed with the message; if decoding throws, the
    /// caller keeps it.
    /// </summary>
    /// <exception cref="MessageFormatException">The header's counts or lengths do not fit the frame.</exception>
    public static Message Decode(ReadOnlyMemory<byte> frame, MessageLimits limits, IDisposable? owner = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ReadOnlySpan<byte> span = frame.Span;
        (int partCount, int headerLength, int bodyLength) = Validate(span, limits);
        int offset = headerLength;
        ReadOnlyMemory<byte> body = frame.Slice(offset, bodyLength);
        offset += bodyLength;
        var parts = new ReadOnlyMemory<byte>[partCount];
        for (int i = 0; i < partCount; i++)
        {
            int partLength = PartLength(span, i);
            parts[i] = frame.Slice(offset, partLength);
            offset += partLength;
        }
        return new Message(body, parts, owner is null ? [] : [owner]);
    }

    /// <summary>
    /// Checks the header of the bytes after a prefix against <paramref name="limits"/> and the message's length, allocating
    /// nothing: flags, part count, and that the body and part lengths add up to exactly the message.
    /// </summary>
    /// <returns>The part count, the header's length (where the body starts) and the body's length.</returns>
    /// <exception cref="MessageFormatException">The header's counts or lengths do not fit the message.</exception>
    internal static (int PartCount, int HeaderLength, int BodyLength) Validate(ReadOnlySpan<byte> span, MessageLimits limits)
    {
        if (span.Length < FixedHeaderSize)
        {
            throw new MessageFormatException($"A message of {span.Length} bytes is shorter than the {FixedHeaderSize}-byte header.");
        }
        (int partCount, int headerLength, int bodyLength) = ValidateFixedHeader(span, span.Length, limits);
        ValidatePartLengths(span, partCount, span.Length - headerLength - bodyLength);
        return (partCount, headerLength, bodyLength);
    }

    /// <summary>
    /// Checks the fixed header (the 16 bytes after the prefix) of a message of <paramref name="messageLength"/> bytes: flags,
    /// part count, and that the part lengths and the body fit. The part lengths themselves are checked by
    /// <see cref="ValidatePartLengths"/> once they have arrived.
    /// </summary>
    internal static (int PartCount, int HeaderLength, int BodyLength) ValidateFixedHeader(ReadOnlySpan<byte> header, long messageLength, MessageLimits limits)
    {
        uint partCount = BinaryPrimitives.ReadUInt32BigEndian(header);
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (flags != 0)
        {
            throw new MessageFormatException($"A message has flags 0x{flags:x8}; this version knows none. It was written by a newer or incompatible peer.");
        }
        if (partCount > (uint)limits.MaxParts)
        {
            throw new MessageFormatException($"A message announced {partCount} parts, more than the maximum of {limits.MaxParts} (MessageLimits.MaxParts).");
        }
        long headerLength = FixedHeaderSize + 8L * partCount;
        if (headerLength > messageLength)
        {
            throw new MessageFormatException($"A message of {messageLength} bytes cannot hold the lengths of its {partCount} parts.");
        }
        ulong remaining = (ulong)(messageLength - headerLength);
        ulong bodyLength = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
        if (bodyLength > remaining)
        {
            throw new MessageFormatException($"A message's body claims {bodyLength} bytes but only {remaining} follow the header.");
        }
        return ((int)partCount, (int)headerLength, (int)bodyLength);
    }

    /// <summary>Checks that the lengths of the <paramref name="partCount"/> parts in <paramref name="header"/> add up to exactly <paramref name="remaining"/> bytes.</summary>
    internal static void ValidatePartLengths(ReadOnlySpan<byte> header, int partCount, long remaining)
    {
        ulong left = (ulong)remaining;
        for (int i = 0; i < partCount; i++)
        {
            ulong partLength = BinaryPrimitives.ReadUInt64BigEndian(header[(FixedHeaderSize + 8 * i)..]);
            if (partLength > left)
            {
                throw new MessageFormatException($"Part {i} of a message claims {partLength} bytes but only {left} remain.");
            }
            left -= partLength;
        }
        if (left != 0)
        {
            throw new MessageFormatException($"A message has {left} bytes beyond its body and parts: its lengths do not add up.");
        }
    }

    /// <summary>The length of part <paramref name="index"/> as the header of a validated message states it.</summary>
    internal static int PartLength(ReadOnlySpan<byte> span, int index) =>
        (int)BinaryPrimitives.ReadUInt64BigEndian(span[(FixedHeaderSize + 8 * index)..]);
}

