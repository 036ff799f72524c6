using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>The smallest payload block, 64 bytes: 1-byte frames work, a 49-byte frame can never fit.</summary>
public sealed class SmallestPayloadBlock : RingPairTest
{

    public SmallestPayloadBlock()
        : base(new ReaderOptions { MetadataSize = 0, PayloadSize = 64 })
    {
    }

    [Fact]
    public void OneByteFramesGoThroughAgainAndAgain()
    {
        for (int i = 1; i <= 100; i++)
        {
            Writer.Write(new[] { (byte)i }, Safety.Timeout);
            using Frame frame = Reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Assert.Equal((byte)i, frame.Span[0]);
        }
    }

    [Fact]
    public void AFortyNineByteFrameFailsAtOnceAsTooLargeRatherThanTimingOut()
    {
        Task<WriteStatus> attempt = Safety.OnThread(() => Writer.TryWrite(new byte[49], Timeout.InfiniteTimeSpan));

        Assert.Throws<FrameTooLargeException>(() => Safety.Join(attempt, "the write of 49 bytes"));
        Assert.Throws<FrameTooLargeException>(() => Writer.Loan(49, Timeout.InfiniteTimeSpan));
        Assert.Equal(48, Writer.MaxFrameLength);
    }

    [Fact]
    public void AFortyEightByteFrameFillsTheBlockExactly()
    {
        Writer.Write(Patterns.Create(48, seed: 1), Safety.Timeout);

        Assert.Equal(0, Reader.GetStats().FreeBytes);
        using Frame frame = Reader.Read(Safety.Timeout);
        Patterns.AssertMatches(frame.Span, 48, seed: 1);
    }

    [Fact]
    public void APayloadBlockBelowSixtyFourBytesIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingReader(NewName(), new ReaderOptions { MetadataSize = 0, PayloadSize = 63 }));
    }
}
