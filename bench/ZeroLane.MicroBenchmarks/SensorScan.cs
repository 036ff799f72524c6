using System.Buffers;
using System.Buffers.Binary;
using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.MicroBenchmarks;

/// <summary>
/// A user type for <see cref="MultipartCodec{T}"/>: a 16-byte body (scan id, timestamp, big-endian) and two parts,
/// the points and their intensities, referenced as they are.
/// </summary>
public readonly record struct SensorScan(ulong ScanId, long TimestampNanoseconds, ReadOnlyMemory<byte> Points, ReadOnlyMemory<byte> Intensities)
    : IMultipartMessage<SensorScan>
{
    private const int BodySize = 16;

    /// <inheritdoc/>
    public static int PartCount => 2;

    /// <inheritdoc/>
    public static void WriteBody(in SensorScan value, IBufferWriter<byte> body)
    {
        Span<byte> span = body.GetSpan(BodySize);
        BinaryPrimitives.WriteUInt64BigEndian(span, value.ScanId);
        BinaryPrimitives.WriteInt64BigEndian(span[8..], value.TimestampNanoseconds);
        body.Advance(BodySize);
    }

    /// <inheritdoc/>
    public static ReadOnlyMemory<byte> GetPart(in SensorScan value, int index) => index == 0 ? value.Points : value.Intensities;

    /// <inheritdoc/>
    public static SensorScan Read(ReadOnlySpan<byte> body, ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        if (body.Length != BodySize)
        {
            throw new MessageCodecException($"A SensorScan body has {BodySize} bytes, not {body.Length}.");
        }
        return new SensorScan(BinaryPrimitives.ReadUInt64BigEndian(body), BinaryPrimitives.ReadInt64BigEndian(body[8..]), parts[0], parts[1]);
    }
}
