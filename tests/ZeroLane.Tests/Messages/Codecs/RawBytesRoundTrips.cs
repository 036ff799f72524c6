using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>Raw bytes, as a body alone or as a body with parts, cross the wire unchanged and uncopied.</summary>
public sealed class RawBytesRoundTrips
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(100_000)]
    public void ABodyOfBytesComesBackEqualAsASliceOfTheReceiveBuffer(int length)
    {
        byte[] body = SimulatedWire.Pattern(length, seed: length);
        using Message outgoing = BytesCodec.Instance.ToMessage(body);
        Assert.True(SimulatedWire.SameMemory(body, outgoing.Body));

        using Message incoming = SimulatedWire.Transmit(outgoing, out PooledMessageBuffer receiveBuffer);
        ReadOnlyMemory<byte> received = BytesCodec.Instance.Decode(incoming);

        Assert.True(received.Span.SequenceEqual(body));
        if (length > 0)
        {
            Assert.Equal(MessageEncoding.FixedHeaderSize, SimulatedWire.OffsetWithin(received.Span, receiveBuffer.GetSpan()));
        }
    }

    [Fact]
    public void TheBytesCodecRefusesAMessageWithParts()
    {
        using Message message = Message.Create(new byte[4], new byte[4]);

        var error = Assert.Throws<MessageCodecException>(() => BytesCodec.Instance.Decode(message));

        Assert.Contains("BytesCodec", error.Message);
    }

    [Fact]
    public void ABodyWithPartsComesBackEqualWithEveryPartASliceOfTheReceiveBuffer()
    {
        byte[] body = SimulatedWire.Pattern(48, seed: 1);
        ReadOnlyMemory<byte>[] parts = [SimulatedWire.Pattern(10_000, 2), ReadOnlyMemory<byte>.Empty, SimulatedWire.Pattern(1, 3), SimulatedWire.Pattern(70_000, 4).AsMemory(5, 60_000)];
        using Message outgoing = MultipartBytesCodec.Instance.ToMessage(new Multipart<ReadOnlyMemory<byte>>(body, parts));
        for (int i = 0; i < parts.Length; i++)
        {
            Assert.True(SimulatedWire.SameMemory(parts[i], outgoing.GetPart(i)), $"part {i} was copied on encode");
        }

        using Message incoming = SimulatedWire.Transmit(outgoing, out PooledMessageBuffer receiveBuffer);
        Multipart<ReadOnlyMemory<byte>> received = MultipartBytesCodec.Instance.Decode(incoming);

        Assert.True(received.Body.Span.SequenceEqual(body));
        Assert.Equal(parts.Length, received.Parts.Length);
        long expectedOffset = MessageEncoding.HeaderSize(parts.Length) - MessageEncoding.PrefixSize + body.Length;
        for (int i = 0; i < parts.Length; i++)
        {
            ReadOnlyMemory<byte> part = received.Parts.Span[i];
            Assert.True(part.Span.SequenceEqual(parts[i].Span), $"part {i} differs");
            if (!part.IsEmpty)
            {
                Assert.Equal(expectedOffset, SimulatedWire.OffsetWithin(part.Span, receiveBuffer.GetSpan()));
            }
            expectedOffset += part.Length;
        }
    }
}
