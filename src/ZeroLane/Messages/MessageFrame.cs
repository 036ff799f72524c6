using System.Buffers;
using System.Buffers.Binary;

namespace ZeroLane.Messages;

/// <summary>
/// The byte layout of a message on a stream or in a ring frame, and its validating decoder.
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
/// add up to exactly the frame; any lie is a <see cref="MessageFrameException"/>.
/// </remarks>
public static class MessageFrame
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
    /// <exception cref="MessageFrameException">The length is below the fixed header or above the maximum.</exception>
    public static long ReadPrefix(ReadOnlySpan<byte> prefix, MessageFrameLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (prefix.Length < PrefixSize)
        {
            throw new MessageFrameException($"A frame prefix needs {PrefixSize} bytes; only {prefix.Length} arrived: the stream ended mid-prefix.");
        }
        ulong length = BinaryPrimitives.ReadUInt64BigEndian(prefix);
        if (length < FixedHeaderSize)
        {
            throw new MessageFrameException($"A frame announced {length} bytes, fewer than the {FixedHeaderSize}-byte header every frame has: the stream is corrupt or not a ZeroLane message stream.");
        }
        if (length > (ulong)limits.MaxFrameLength)
        {
            throw new MessageFrameException($"A frame announced {length} bytes, more than the maximum of {limits.MaxFrameLength} (MessageFrameLimits.MaxFrameLength). Nothing was allocated; raise the limit if such frames are expected.");
        }
        return (long)length;
    }

    /// <summary>
    /// Makes a message from the bytes after a prefix: body and parts become slices of <paramref name="frame"/>
    /// (no copy). <paramref name="owner"/>, if given, is disposed with the message; if decoding throws, the
    /// caller keeps it.
    /// </summary>
    /// <exception cref="MessageFrameException">The header's counts or lengths do not fit the frame.</exception>
    public static Message Decode(ReadOnlyMemory<byte> frame, MessageFrameLimits limits, IDisposable? owner = null)
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
    /// Checks the header of the bytes after a prefix against <paramref name="limits"/> and the frame's length, allocating
    /// nothing: flags, part count, and that the body and part lengths add up to exactly the frame.
    /// </summary>
    /// <returns>The part count, the header's length (where the body starts) and the body's length.</returns>
    /// <exception cref="MessageFrameException">The header's counts or lengths do not fit the frame.</exception>
    internal static (int PartCount, int HeaderLength, int BodyLength) Validate(ReadOnlySpan<byte> span, MessageFrameLimits limits)
    {
        if (span.Length < FixedHeaderSize)
        {
            throw new MessageFrameException($"A frame of {span.Length} bytes is shorter than the {FixedHeaderSize}-byte header.");
        }
        uint partCount = BinaryPrimitives.ReadUInt32BigEndian(span);
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(span[4..]);
        if (flags != 0)
        {
            throw new MessageFrameException($"A frame has flags 0x{flags:x8}; this version knows none. It was written by a newer or incompatible peer.");
        }
        if (partCount > (uint)limits.MaxParts)
        {
            throw new MessageFrameException($"A frame announced {partCount} parts, more than the maximum of {limits.MaxParts} (MessageFrameLimits.MaxParts).");
        }
        long headerLength = FixedHeaderSize + 8L * partCount;
        if (headerLength > span.Length)
        {
            throw new MessageFrameException($"A frame of {span.Length} bytes cannot hold the lengths of its {partCount} parts.");
        }
        ulong remaining = (ulong)(span.Length - headerLength);
        ulong bodyLength = BinaryPrimitives.ReadUInt64BigEndian(span[8..]);
        if (bodyLength > remaining)
        {
            throw new MessageFrameException($"A frame's body claims {bodyLength} bytes but only {remaining} follow the header.");
        }
        remaining -= bodyLength;
        for (int i = 0; i < partCount; i++)
        {
            ulong partLength = BinaryPrimitives.ReadUInt64BigEndian(span[(FixedHeaderSize + 8 * i)..]);
            if (partLength > remaining)
            {
                throw new MessageFrameException($"Part {i} of a frame claims {partLength} bytes but only {remaining} remain.");
            }
            remaining -= partLength;
        }
        if (remaining != 0)
        {
            throw new MessageFrameException($"A frame has {remaining} bytes beyond its body and parts: its lengths do not add up.");
        }
        return ((int)partCount, (int)headerLength, (int)bodyLength);
    }

    /// <summary>The length of part <paramref name="index"/> as the header of a validated frame states it.</summary>
    internal static int PartLength(ReadOnlySpan<byte> span, int index) =>
        (int)BinaryPrimitives.ReadUInt64BigEndian(span[(FixedHeaderSize + 8 * index)..]);
}

/// <summary>Bounds a decoder enforces before allocating.</summary>
public sealed record MessageFrameLimits
{
    /// <summary>Largest frame accepted, in bytes after the prefix. Default 256 MiB; at most 2 GiB - 1.</summary>
    public long MaxFrameLength
    {
        get => _maxFrameLength;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MessageFrame.FixedHeaderSize);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, int.MaxValue);
            _maxFrameLength = value;
        }
    }

    private readonly long _maxFrameLength = 256L << 20;

    /// <summary>Most parts accepted in one message. Default 1,024; 0 or more.</summary>
    public int MaxParts
    {
        get => _maxParts;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxParts = value;
        }
    }

    private readonly int _maxParts = 1024;

    /// <summary>The defaults.</summary>
    public static MessageFrameLimits Default { get; } = new();
}

/// <summary>A message frame is malformed, truncated or larger than allowed.</summary>
public sealed class MessageFrameException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageFrameException(string message) : base(message)
    {
    }
}

/// <summary>
/// A pooled receive buffer. Memory obtained from it throws <see cref="ObjectDisposedException"/> once it
/// is disposed, so a received message's segments cannot be read after the message is disposed.
/// </summary>
internal sealed class PooledFrameBuffer : MemoryManager<byte>
{
    private byte[]? _array;
    private readonly int _length;

    internal PooledFrameBuffer(int length)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        _length = length;
    }

    public override Span<byte> GetSpan() =>
        new(_array ?? throw new ObjectDisposedException(nameof(Message), "The message was disposed; its bytes went back to the pool."), 0, _length);

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        byte[] array = _array ?? throw new ObjectDisposedException(nameof(Message), "The message was disposed; its bytes went back to the pool.");
        if ((uint)elementIndex > (uint)_length)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        }
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(array, System.Runtime.InteropServices.GCHandleType.Pinned);
        return new MemoryHandle((byte*)handle.AddrOfPinnedObject() + elementIndex, handle, this);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        byte[]? array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
