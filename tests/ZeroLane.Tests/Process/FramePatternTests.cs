using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// The frame pattern the cross-process tests rely on accepts exactly the frame for its sequence and length,
/// and catches torn frames, frames delivered under another sequence, and single flipped bytes.
/// </summary>
public sealed class FramePatternTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1024)]
    [InlineData(200 << 10)]
    public void FrameFilledForASequenceVerifiesForThatSequenceOnly(int length)
    {
        byte[] frame = new byte[length];
        FramePattern.Fill(frame, 42);

        Assert.Null(FramePattern.Verify(frame, 42));
        Assert.NotNull(FramePattern.Verify(frame, 43));
    }

    [Theory]
    [InlineData(16, 0)]
    [InlineData(100, 17)]
    [InlineData(100, 99)]
    [InlineData(4096, 4000)]
    public void TornFrameWithTheTailOfAnOlderFrameFailsVerification(int length, int tornFrom)
    {
        byte[] older = new byte[length];
        FramePattern.Fill(older, 6);
        byte[] frame = new byte[length];
        FramePattern.Fill(frame, 7);

        older.AsSpan(tornFrom).CopyTo(frame.AsSpan(tornFrom));

        Assert.NotNull(FramePattern.Verify(frame, 7));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(16, 3)]
    [InlineData(16, 13)]
    [InlineData(1000, 500)]
    [InlineData(1000, 999)]
    public void SingleFlippedByteFailsVerification(int length, int offset)
    {
        byte[] frame = new byte[length];
        FramePattern.Fill(frame, 1);

        frame[offset] ^= 0x01;

        Assert.NotNull(FramePattern.Verify(frame, 1));
    }

    [Fact]
    public void VariedLengthsStayInRangeAndCoverTinyAndLargeFrames()
    {
        int[] lengths = Enumerable.Range(1, 10_000).Select(i => FramePattern.VariedLength((ulong)i, 200 << 10)).ToArray();

        Assert.All(lengths, length => Assert.InRange(length, 1, 200 << 10));
        Assert.Contains(lengths, length => length == 1);
        Assert.Contains(lengths, length => length > 150 << 10);
    }
}
