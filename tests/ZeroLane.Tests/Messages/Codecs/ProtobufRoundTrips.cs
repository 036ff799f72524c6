using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;
using ZeroLane.Protobuf;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>A Protobuf message is the body in its standard encoding; raw parts travel beside it uncopied.</summary>
public sealed class ProtobufRoundTrips
{
    private static readonly ProtobufCodec<Struct> s_codec = new(Struct.Parser);

    private static Struct NewHeader() => new()
    {
        Fields =
        {
            ["sensor"] = Value.ForString("lidar-front"),
            ["sequence"] = Value.ForNumber(42),
            ["calibrated"] = Value.ForBool(true),
            ["shape"] = Value.ForList(Value.ForNumber(1024), Value.ForNumber(64)),
        },
    };

    [Fact]
    public void AProtobufBodyAndItsPartsComeBackEqual()
    {
        Struct header = NewHeader();
        ReadOnlyMemory<byte>[] parts = [SimulatedWire.Pattern(1024 * 64 * 4, 1), SimulatedWire.Pattern(3, 2)];

        using Message outgoing = s_codec.ToMessage(new Multipart<Struct>(header, parts));
        using Message incoming = SimulatedWire.Transmit(outgoing, out PooledMessageBuffer receiveBuffer);
        Multipart<Struct> received = s_codec.Decode(incoming);

        Assert.Equal(header, received.Body);
        Assert.Equal(2, received.Parts.Length);
        for (int i = 0; i < parts.Length; i++)
        {
            Assert.True(received.Parts.Span[i].Span.SequenceEqual(parts[i].Span));
            Assert.NotEqual(-1, SimulatedWire.OffsetWithin(received.Parts.Span[i].Span, receiveBuffer.GetSpan()));
        }
    }

    [Fact]
    public void TheBodyIsTheStandardProtobufEncodingAndThePartsAreTheCallersMemory()
    {
        Struct header = NewHeader();
        byte[] pixels = SimulatedWire.Pattern(4096, 3);

        using Message message = s_codec.ToMessage(new Multipart<Struct>(header, new ReadOnlyMemory<byte>[] { pixels }));

        Assert.Equal(header.ToByteArray(), message.Body.ToArray());
        Assert.True(SimulatedWire.SameMemory(pixels, message.GetPart(0)));
    }

    [Fact]
    public void AnEmptyProtobufMessageWithoutPartsIsAnEmptyBody()
    {
        var codec = new ProtobufCodec<Timestamp>(Timestamp.Parser);

        using Message outgoing = codec.ToMessage(new Multipart<Timestamp>(new Timestamp(), default));
        using Message incoming = SimulatedWire.Transmit(outgoing);

        Assert.Equal(0, outgoing.Body.Length);
        Assert.Equal(new Timestamp(), codec.Decode(incoming).Body);
        Assert.Equal(0, codec.Decode(incoming).Parts.Length);
    }

    [Fact]
    public void ABodyThatIsNotProtobufIsRefusedWithACodecError()
    {
        using Message message = Message.Create(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F });

        var error = Assert.Throws<MessageCodecException>(() => s_codec.Decode(message));

        Assert.Contains("not a valid Struct", error.Message);
    }
}
