using System.Buffers;
using System.Buffers.Binary;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>Pixel layouts a camera frame may carry.</summary>
public enum PixelFormat : uint
{
    /// <summary>8-bit grey.</summary>
    Mono8 = 1,

    /// <summary>8 bits per channel, red-green-blue.</summary>
    Rgb24 = 2,
}

/// <summary>
/// A realistic user type: small fields in the body, pixels and a depth map as the two parts. It declares its
/// layout through <see cref="IMultipartMessage{TSelf}"/>, with no reflection and no copy of the large fields.
/// </summary>
/// <remarks>
/// Body (36 bytes, big-endian): u32 version = 1, u32 camera id, u64 frame id, i64 timestamp (ns), u32 width,
/// u32 height, u32 pixel format. Part 0: pixels; part 1: depth map (empty when the camera has none).
/// </remarks>
public readonly record struct CameraFrame(
    uint CameraId,
    ulong FrameId,
    long TimestampNanoseconds,
    int Width,
    int Height,
    PixelFormat Format,
    ReadOnlyMemory<byte> Pixels,
    ReadOnlyMemory<byte> Depth) : IMultipartMessage<CameraFrame>
{
    /// <summary>Bytes of the body.</summary>
    public const int BodySize = 36;

    private const uint Version = 1;

    /// <inheritdoc/>
    public static int PartCount => 2;

    /// <inheritdoc/>
    public static void WriteBody(in CameraFrame value, IBufferWriter<byte> body)
    {
        Span<byte> span = body.GetSpan(BodySize);
        BinaryPrimitives.WriteUInt32BigEndian(span, Version);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], value.CameraId);
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], value.FrameId);
        BinaryPrimitives.WriteInt64BigEndian(span[16..], value.TimestampNanoseconds);
        BinaryPrimitives.WriteInt32BigEndian(span[24..], value.Width);
        BinaryPrimitives.WriteInt32BigEndian(span[28..], value.Height);
        BinaryPrimitives.WriteUInt32BigEndian(span[32..], (uint)value.Format);
        body.Advance(BodySize);
    }

    /// <inheritdoc/>
    public static ReadOnlyMemory<byte> GetPart(in CameraFrame value, int index) => index switch
    {
        0 => value.Pixels,
        1 => value.Depth,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "A camera frame has parts 0 (pixels) and 1 (depth)."),
    };

    /// <inheritdoc/>
    public static CameraFrame Read(ReadOnlySpan<byte> body, ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        if (body.Length != BodySize)
        {
            throw new MessageCodecException($"A camera frame body has {BodySize} bytes, not {body.Length}.");
        }
        uint version = BinaryPrimitives.ReadUInt32BigEndian(body);
        if (version != Version)
        {
            throw new MessageCodecException($"Camera frame version {version} is unknown; this build reads version {Version}.");
        }
        return new CameraFrame(
            CameraId: BinaryPrimitives.ReadUInt32BigEndian(body[4..]),
            FrameId: BinaryPrimitives.ReadUInt64BigEndian(body[8..]),
            TimestampNanoseconds: BinaryPrimitives.ReadInt64BigEndian(body[16..]),
            Width: BinaryPrimitives.ReadInt32BigEndian(body[24..]),
            Height: BinaryPrimitives.ReadInt32BigEndian(body[28..]),
            Format: (PixelFormat)BinaryPrimitives.ReadUInt32BigEndian(body[32..]),
            Pixels: parts[0],
            Depth: parts[1]);
    }
}
