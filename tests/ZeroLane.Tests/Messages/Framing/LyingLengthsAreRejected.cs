using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Framing;

/// <summary>Counts and lengths that lie about the frame are a MessageFrameException whose message says which one lied.</summary>
public sealed class LyingLengthsAreRejected
{
    private static MessageFrameException DecodeFails(byte[] frame, MessageFrameLimits? limits = null)
    {
        Exception? error = Record.Exception(() => MessageFrame.Decode(frame, limits ?? MessageFrameLimits.Default).Dispose());
        return Assert.IsType<MessageFrameException>(error);
    }

    [Fact]
    public void AnHonestFrameDecodes()
    {
        using Message message = MessageFrame.Decode(HandMadeFrame.Honest(5, 3, 0, 7), MessageFrameLimits.Default);

        Assert.Equal(5, message.Body.Length);
        Assert.Equal([3, 0, 7], Enumerable.Range(0, 3).Select(i => message.GetPart(i).Length));
    }

    [Fact]
    public void ABodyLongerThanTheFrameIsRefused()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(1, 0, bodyLength: 16, [5], payloadBytes: 15));

        Assert.Contains("body claims 16 bytes but only 15", error.Message);
    }

    [Fact]
    public void ABodyLengthOfUlongMaxIsRefused()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(0, 0, bodyLength: ulong.MaxValue, [], payloadBytes: 8));

        Assert.Contains("body claims", error.Message);
    }

    [Fact]
    public void ABodyShorterThanDeclaredLeavesBytesOverAndIsRefused()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(1, 0, bodyLength: 4, [5], payloadBytes: 10));

        Assert.Contains("do not add up", error.Message);
    }

    [Fact]
    public void APartLongerThanWhatRemainsIsRefused()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(2, 0, bodyLength: 4, [5, 6], payloadBytes: 14));

        Assert.Contains("Part 1", error.Message);
    }

    [Fact]
    public void PartsShorterThanTheFrameAreRefused()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(2, 0, bodyLength: 4, [5, 5], payloadBytes: 20));

        Assert.Contains("6 bytes beyond", error.Message);
    }

    [Fact]
    public void PartLengthsWhoseSumOverflowsAUlongToTheRightValueAreRefused()
    {
        // 2^63 + (2^63 + 10) wraps to 10, the real payload: a decoder that summed before checking would accept it.
        ulong half = 1UL << 63;
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(2, 0, bodyLength: 0, [half, half + 10], payloadBytes: 10));

        Assert.Contains("Part 0", error.Message);
    }

    [Fact]
    public void BodyAndPartLengthsWhoseSumOverflowsAreRefused()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(1, 0, bodyLength: ulong.MaxValue, [11], payloadBytes: 10));

        Assert.Contains("body claims", error.Message);
    }

    [Fact]
    public void APartCountTheFrameCannotHoldIsRefused()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(1000, 0, bodyLength: 0, [0, 0], payloadBytes: 0));

        Assert.Contains("cannot hold the lengths of its 1000 parts", error.Message);
    }

    [Theory]
    [InlineData(1025u)]
    [InlineData(uint.MaxValue)]
    public void APartCountAboveTheMaximumIsRefused(uint partCount)
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(partCount, 0, bodyLength: 0, [], payloadBytes: 0));

        Assert.Contains($"{partCount} parts, more than the maximum of 1024", error.Message);
    }

    [Fact]
    public void APartCountAboveAConfiguredMaximumIsRefusedEvenIfTheFrameHoldsIt()
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Honest(0, 1, 1, 1), new MessageFrameLimits { MaxParts = 2 });

        Assert.Contains("maximum of 2", error.Message);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(0x8000_0000u)]
    public void NonzeroFlagsAreRefused(uint flags)
    {
        MessageFrameException error = DecodeFails(HandMadeFrame.Build(0, flags, bodyLength: 0, [], payloadBytes: 0));

        Assert.Contains("flags", error.Message);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(15UL)]
    public void APrefixShorterThanTheFixedHeaderIsRefused(ulong announced)
    {
        var error = Assert.Throws<MessageFrameException>(() => MessageFrame.ReadPrefix(HandMadeFrame.Prefix(announced), MessageFrameLimits.Default));

        Assert.Contains("fewer than the 16-byte header", error.Message);
    }

    [Theory]
    [InlineData(256UL * 1024 * 1024 + 1)]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 63)]
    public void APrefixAboveTheMaximumFrameLengthIsRefused(ulong announced)
    {
        var error = Assert.Throws<MessageFrameException>(() => MessageFrame.ReadPrefix(HandMadeFrame.Prefix(announced), MessageFrameLimits.Default));

        Assert.Contains("MaxFrameLength", error.Message);
    }

    [Fact]
    public void APrefixAtExactlyTheMaximumIsAccepted()
    {
        var limits = new MessageFrameLimits { MaxFrameLength = 4096 };

        Assert.Equal(4096, MessageFrame.ReadPrefix(HandMadeFrame.Prefix(4096), limits));
    }
}
