using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Framing;

/// <summary>Limits that would switch a check off are refused when the limits are made.</summary>
public sealed class FrameLimitsAreValidated
{
    [Theory]
    [InlineData(15L)]
    [InlineData(int.MaxValue + 1L)]
    public void AMaximumFrameLengthOutsideTheHeaderToTwoGibibytesIsRefused(long maxFrameLength)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageLimits { MaxMessageLength = maxFrameLength });
    }

    [Fact]
    public void ANegativeMaximumPartCountIsRefused()
    {
        // Fails today: MaxParts has no check, and Decode compares partCount > (uint)MaxParts, so -1 means "no limit".
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageLimits { MaxParts = -1 });
    }
}
