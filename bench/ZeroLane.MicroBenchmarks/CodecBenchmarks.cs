using BenchmarkDotNet.Attributes;
using Google.Protobuf.WellKnownTypes;
using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;
using ZeroLane.Protobuf;

namespace ZeroLane.MicroBenchmarks;

/// <summary>
/// One value through each codec: encode it into a new message, decode it back, dispose the message. Large
/// fields are referenced on encode and sliced on decode, so the cost is the codec's own bookkeeping (and, for
/// the body codecs, writing and reading the body), whatever the part sizes.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private const int PartBytes = 128 * 1024;

    private readonly ProtobufCodec<Timestamp> _protobufCodec = new(Timestamp.Parser);
    private ReadOnlyMemory<byte> _bytes;
    private Multipart<ReadOnlyMemory<byte>> _multipartBytes;
    private SensorScan _scan;
    private ImuSample _imu;
    private string _text = null!;
    private Multipart<Timestamp> _protobuf;

    [GlobalSetup]
    public void Setup()
    {
        _bytes = Pattern(1024);
        ReadOnlyMemory<byte>[] parts = Enumerable.Range(0, 8).Select(_ => (ReadOnlyMemory<byte>)Pattern(PartBytes)).ToArray();
        _multipartBytes = new Multipart<ReadOnlyMemory<byte>>(Pattern(64), parts);
        _scan = new SensorScan(42, 1_700_000_000_000_000_000, parts[0], parts[1]);
        _imu = new ImuSample(1_700_000_000_000_000_000, 0.1, 0.2, 9.81, 0.01, 0.02, 0.03);
        _text = "{\"camera\":0,\"width\":1920,\"height\":1080,\"format\":\"rgb24\",\"exposure_us\":8000,\"gain_db\":3.5,\"label\":\"front-left\"}";
        _protobuf = new Multipart<Timestamp>(new Timestamp { Seconds = 1_700_000_000, Nanos = 123_456_789 }, new[] { parts[0] });
    }

    /// <summary><see cref="BytesCodec"/>: a 1 KiB body, referenced.</summary>
    [Benchmark]
    public int Bytes()
    {
        using Message message = BytesCodec.Instance.ToMessage(_bytes);
        return BytesCodec.Instance.Decode(message).Length;
    }

    /// <summary><see cref="MultipartBytesCodec"/>: a 64-byte body and 8 parts of 128 KiB, all referenced.</summary>
    [Benchmark]
    public int MultipartBytes()
    {
        using Message message = MultipartBytesCodec.Instance.ToMessage(_multipartBytes);
        return MultipartBytesCodec.Instance.Decode(message).Parts.Length;
    }

    /// <summary><see cref="MultipartCodec{T}"/>: a user type's 16-byte body (pooled) and 2 parts of 128 KiB.</summary>
    [Benchmark]
    public ulong MultipartUserType()
    {
        using Message message = MultipartCodec<SensorScan>.Instance.ToMessage(_scan);
        return MultipartCodec<SensorScan>.Instance.Decode(message).ScanId;
    }

    /// <summary><see cref="UnmanagedCodec{T}"/>: a 56-byte struct copied into a pooled body and read back.</summary>
    [Benchmark]
    public long UnmanagedStruct()
    {
        using Message message = UnmanagedCodec<ImuSample>.Instance.ToMessage(_imu);
        return UnmanagedCodec<ImuSample>.Instance.Decode(message).TimestampNanoseconds;
    }

    /// <summary><see cref="Utf8StringCodec"/>: a 111-character ASCII string, encoded into a pooled body and decoded into a new string.</summary>
    [Benchmark]
    public int Utf8String()
    {
        using Message message = Utf8StringCodec.Instance.ToMessage(_text);
        return Utf8StringCodec.Instance.Decode(message).Length;
    }

    /// <summary><see cref="ProtobufCodec{T}"/>: a Protobuf <see cref="Timestamp"/> as the body, one 128 KiB part beside it.</summary>
    [Benchmark]
    public int Protobuf()
    {
        using Message message = _protobufCodec.ToMessage(_protobuf);
        return _protobufCodec.Decode(message).Body.Nanos;
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 31 + 7);
        }
        return bytes;
    }
}
