using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Framing;

/// <summary>Counts and lengths that lie about the frame are a MessageFormatException whose message says which one lied.</summary>
public sealed class LyingLengthsAreRejected
{
    private static MessageFormatException DecodeFails(byte[] frame, MessageLimits? limits = null)
    {
        Exception? error = Record.Exception(() => MessageEncoding.Decode(frame, limits ?? MessageLimits.Default).Dispose());
        return Assert.IsType<MessageFormatException>(error);
    }

    [Fact]
    public void AnHonestFrameDecodes()
    {
        using Message message = MessageEncoding.Decode(HandMadeFrame.Honest(5, 3, 0, 7), MessageLimits.Default);

        Assert.Equal(5, message.Body.Length);
        Assert.Equal([3, 0, 7], Enumerable.Range(0, 3).Select(i => message.GetPart(i).Length));
    }

    [Fact]
    public void ABodyLongerThanTheFrameIsRefused()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(1, 0, bodyLength: 16, [5], payloadBytes: 15));

        Assert.Contains("body claims 16 bytes but only 15", error.Message);
    }

    [Fact]
    public void ABodyLengthOfUlongMaxIsRefused()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(0, 0, bodyLength: ulong.MaxValue, [], payloadBytes: 8));

        Assert.Contains("body claims", error.Message);
    }

    [Fact]
    public void ABodyShorterThanDeclaredLeavesBytesOverAndIsRefused()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(1, 0, bodyLength: 4, [5], payloadBytes: 10));

        Assert.Contains("do not add up", error.Message);
    }

    [Fact]
    public void APartLongerThanWhatRemainsIsRefused()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(2, 0, bodyLength: 4, [5, 6], payloadBytes: 14));

        Assert.Contains("Part 1", error.Message);
    }

    [Fact]
    public void PartsShorterThanTheFrameAreRefused()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(2, 0, bodyLength: 4, [5, 5], payloadBytes: 20));

        Assert.Contains("6 bytes beyond", error.Message);
    }

    [Fact]
    public void PartLengthsWhoseSumOverflowsAUlongToTheRightValueAreRefused()
    {
        // 2^63 + (2^63 + 10) wraps to 10, the real payload: a decoder that summed before checking would accept it.
        ulong half = 1UL << 63;
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(2, 0, bodyLength: 0, [half, half + 10], payloadBytes: 10));

        Assert.Contains("Part 0", error.Message);
    }

    [Fact]
    public void BodyAndPartLengthsWhoseSumOverflowsAreRefused()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(1, 0, bodyLength: ulong.MaxValue, [11], payloadBytes: 10));

        Assert.Contains("body claims", error.Message);
    }

    [Fact]
    public void APartCountTheFrameCannotHoldIsRefused()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(1000, 0, bodyLength: 0, [0, 0], payloadBytes: 0));

        Assert.Contains("cannot hold the lengths of its 1000 parts", error.Message);
    }

    [Theory]
    [InlineData(1025u)]
    [InlineData(uint.MaxValue)]
    public void APartCountAboveTheMaximumIsRefused(uint partCount)
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(partCount, 0, bodyLength: 0, [], payloadBytes: 0));

        Assert.Contains($"{partCount} parts, more than the maximum of 1024", error.Message);
    }

    [Fact]
    public void APartCountAboveAConfiguredMaximumIsRefusedEvenIfTheFrameHoldsIt()
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Honest(0, 1, 1, 1), new MessageLimits { MaxParts = 2 });

        Assert.Contains("maximum of 2", error.Message);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(0x8000_0000u)]
    public void NonzeroFlagsAreRefused(uint flags)
    {
        MessageFormatException error = DecodeFails(HandMadeFrame.Build(0, flags, bodyLength: 0, [], payloadBytes: 0));

        Assert.Contains("flags", error.Message);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(15UL)]
    public void APrefixShorterThanTheFixedHeaderIsRefused(ulong announced)
    {
        var error = Assert.Throws<MessageFormatException>(() => MessageEncoding.ReadPrefix(HandMadeFrame.Prefix(announced), MessageLimits.Default));

        Assert.Contains("fewer than the 16-byte header", error.Message);
    }

    [Theory]
    [InlineData(256UL * 1024 * 1024 + 1)]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 63)]
    public void APrefixAboveTheMaximumFrameLengthIsRefused(ulong announced)
    {
        var error = Assert.Throws<MessageFormatException>(() => MessageEncoding.ReadPrefix(HandMadeFrame.Prefix(announced), MessageLimits.Default));

        Assert.Contains("MaxMessageLength", error.Message);
    }

    [Fact]
    public void APrefixAtExactlyTheMaximumIsAccepted()
    {
        var limits = new MessageLimits { MaxMessageLength = 4096 };

        Assert.Equal(4096, MessageEncoding.ReadPrefix(HandMadeFrame.Prefix(4096), limits));
    }
}
