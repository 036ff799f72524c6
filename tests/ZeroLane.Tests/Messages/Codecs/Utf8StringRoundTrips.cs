using System.Text;
using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>Strings travel as strict UTF-8 bodies: valid text round-trips, invalid text is refused, never replaced.</summary>
public sealed class Utf8StringRoundTrips
{
    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("Grüße, 世界! 👋🏽")]
    [InlineData("nul\0inside")]
    public void AStringComesBackEqual(string text)
    {
        using Message outgoing = Utf8StringCodec.Instance.ToMessage(text);
        using Message incoming = SimulatedWire.Transmit(outgoing);

        Assert.Equal(text, Utf8StringCodec.Instance.Decode(incoming));
    }

    [Fact]
    public void TheBodyIsExactlyTheUtf8BytesWithoutAMarkOrTerminator()
    {
        const string text = "Grüße";

        using Message message = Utf8StringCodec.Instance.ToMessage(text);

        Assert.Equal(Encoding.UTF8.GetBytes(text), message.Body.ToArray());
        Assert.Equal(0, message.PartCount);
    }

    [Fact]
    public void ABodyThatIsNotUtf8IsRefusedWithACodecError()
    {
        using Message message = Message.Create(new byte[] { (byte)'o', (byte)'k', 0xC3, 0x28 });

        var error = Assert.Throws<MessageCodecException>(() => Utf8StringCodec.Instance.Decode(message));

        Assert.Contains("not valid UTF-8", error.Message);
    }

    [Fact]
    public void AStringWithALoneSurrogateCannotBeEncoded()
    {
        MessageBuilder builder = Message.CreateBuilder();

        var error = Assert.Throws<ArgumentException>(() => Utf8StringCodec.Instance.Encode("bad \uD800 half", builder));

        Assert.Contains("surrogate", error.Message);
    }
}
