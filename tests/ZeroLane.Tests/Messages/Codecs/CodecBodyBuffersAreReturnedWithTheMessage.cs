using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;
using ZeroLane.Protobuf;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>
/// A body a codec rented from the pool belongs to the message: disposing the message returns it, and memory
/// taken from the message before that throws instead of showing bytes the pool has handed to someone else.
/// </summary>
public sealed class CodecBodyBuffersAreReturnedWithTheMessage
{
    public static TheoryData<string> Codecs => ["unmanaged", "utf8", "protobuf", "multipart"];

    private static Message Encode(string codec) => codec switch
    {
        "unmanaged" => UnmanagedCodec<long>.Instance.ToMessage(7L),
        "utf8" => Utf8StringCodec.Instance.ToMessage("text"),
        "protobuf" => new ProtobufCodec<Google.Protobuf.WellKnownTypes.Timestamp>(Google.Protobuf.WellKnownTypes.Timestamp.Parser)
            .ToMessage(new Multipart<Google.Protobuf.WellKnownTypes.Timestamp>(new() { Seconds = 5 }, default)),
        "multipart" => MultipartCodec<CameraFrame>.Instance.ToMessage(new CameraFrame(1, 2, 3, 4, 5, PixelFormat.Mono8, default, default)),
        _ => throw new ArgumentOutOfRangeException(nameof(codec)),
    };

    [Theory]
    [MemberData(nameof(Codecs))]
    public void BodyMemoryTakenBeforeDisposeThrowsAfterIt(string codec)
    {
        Message message = Encode(codec);
        ReadOnlyMemory<byte> body = message.Body;
        Assert.False(body.IsEmpty);

        message.Dispose();

        Assert.Throws<ObjectDisposedException>(() => body.Span.Length);
    }

    [Fact]
    public void ABodyLargerThanTheFirstRentGrowsWithoutLosingBytes()
    {
        string text = new('x', 100_000);

        using Message message = Utf8StringCodec.Instance.ToMessage(text);

        Assert.Equal(100_000, message.Body.Length);
        Assert.Equal(text, Utf8StringCodec.Instance.Decode(message));
    }

    [Fact]
    public void AProtobufCodecRefusesANullMessage()
    {
        var codec = new ProtobufCodec<Google.Protobuf.WellKnownTypes.Timestamp>(Google.Protobuf.WellKnownTypes.Timestamp.Parser);

        Assert.Throws<ArgumentException>(() => codec.Encode(new Multipart<Google.Protobuf.WellKnownTypes.Timestamp>(null!, default), Message.CreateBuilder()));
    }
}
