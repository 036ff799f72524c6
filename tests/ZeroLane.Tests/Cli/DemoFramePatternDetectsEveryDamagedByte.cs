using Xunit;
using ZeroLane.Cli.Demo;

namespace ZeroLane.Tests.Cli;

/// <summary>The demo's frame check passes only the exact pattern of the frame's own sequence number.</summary>
public sealed class DemoFramePatternDetectsEveryDamagedByte
{
    [Theory]
    [InlineData(16)]
    [InlineData(1000)]
    [InlineData(100_003)]
    [InlineData(6_220_800)]
    public void AFilledFrameVerifiesWhateverItsStamp(int length)
    {
        byte[] frame = new byte[length];
        FramePattern.Fill(frame, sequence: 42);
        FramePattern.Stamp(frame, timestamp: 123_456_789);

        Assert.True(FramePattern.Verify(frame, sequence: 42));
        Assert.Equal(123_456_789, FramePattern.ReadStamp(frame));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(100_003)]
    public void FlippingAnyOneByteAfterTheStampFailsTheCheck(int length)
    {
        byte[] frame = new byte[length];
        FramePattern.Fill(frame, sequence: 7);
        for (int offset = FramePattern.StampLength; offset < length; offset += offset < 200 ? 1 : 997)
        {
            frame[offset] ^= 0x01;
            Assert.False(FramePattern.Verify(frame, sequence: 7), $"A flipped byte at offset {offset} went unnoticed.");
            frame[offset] ^= 0x01;
        }
        frame[^1] ^= 0x80;
        Assert.False(FramePattern.Verify(frame, sequence: 7), "A flipped last byte went unnoticed.");
    }

    [Fact]
    public void AFrameFilledForAnotherSequenceFailsTheCheck()
    {
        byte[] frame = new byte[4096];
        FramePattern.Fill(frame, sequence: 8);

        Assert.False(FramePattern.Verify(frame, sequence: 7));
        Assert.False(FramePattern.Verify(frame, sequence: 9));
    }
}
