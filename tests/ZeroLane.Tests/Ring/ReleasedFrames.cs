using System.Buffers;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A released frame fails loudly when touched, and releasing it again changes nothing (defect 7).</summary>
public sealed class ReleasedFrames : RingPairTest
{
    private const int PayloadSize = 64 * 1024;

    public ReleasedFrames()
        : base(new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize })
    {
    }

    private Frame WriteAndRead(int length, ulong seed)
    {
        Writer.Write(Patterns.Create(length, seed), Safety.Timeout);
        return Reader.Read(Safety.Timeout);
    }

    [Fact]
    public void TouchingTheSpanOfAReleasedFrameThrowsObjectDisposedException()
    {
        Frame frame = WriteAndRead(100, seed: 1);

        frame.Dispose();

        Assert.True(frame.IsReleased);
        Assert.Throws<ObjectDisposedException>(() => frame.Span.Length);
    }

    [Fact]
    public void TouchingTheMemoryOfAReleasedFrameThrowsObjectDisposedException()
    {
        Frame frame = WriteAndRead(100, seed: 1);

        frame.Dispose();

        Assert.Throws<ObjectDisposedException>(() => frame.Memory.Length);
    }

    [Fact]
    public void TheMemoryOfAFrameHoldsItsBytesAndBecomesInvalidWhenTheFrameIsReleased()
    {
        Frame frame = WriteAndRead(300, seed: 7);
        ReadOnlyMemory<byte> memory = frame.Memory;
        Patterns.AssertMatches(memory.Span, 300, seed: 7);
        Patterns.AssertMatches(frame.Memory.Span, 300, seed: 7);

        frame.Dispose();

        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => { using MemoryHandle pin = memory.Pin(); });
    }

    [Fact]
    public void ReleasingAFrameTwiceIsHarmlessAndCreditsItsSpaceOnce()
    {
        Frame first = WriteAndRead(1000, seed: 1);
        Frame second = WriteAndRead(1000, seed: 2);
        Frame copyOfFirst = first;

        first.Dispose();
        first.Dispose();
        copyOfFirst.Dispose();
        Reader.Release(first);

        Assert.Equal(PayloadSize - 1016, Reader.GetStats().FreeBytes);
        Assert.False(second.IsReleased);
        Patterns.AssertMatches(second.Span, 1000, seed: 2);
        second.Dispose();
        Assert.Equal(PayloadSize, Reader.GetStats().FreeBytes);
    }

    [Fact]
    public void ReleasingAStaleCopyOfAnOldFrameDoesNotReleaseALaterFrameThatReusedItsSlot()
    {
        Frame stale = WriteAndRead(10, seed: 1);
        stale.Dispose();
        var later = new List<Frame>();
        for (ulong i = 2; i <= 130; i++)
        {
            Frame frame = WriteAndRead(10, seed: i);
            later.Add(frame);
        }
        long freeBefore = Reader.GetStats().FreeBytes;

        stale.Dispose();

        Assert.Equal(freeBefore, Reader.GetStats().FreeBytes);
        Assert.All(later, frame => Assert.False(frame.IsReleased));
        for (int i = 0; i < later.Count; i++)
        {
            Patterns.AssertMatches(later[i].Span, 10, seed: (ulong)i + 2);
            later[i].Dispose();
        }
        Assert.Equal(PayloadSize, Reader.GetStats().FreeBytes);
    }

    [Fact]
    public void ADefaultFrameIsNotValidAndReportsReleased()
    {
        Frame frame = default;

        Assert.False(frame.IsValid);
        Assert.True(frame.IsReleased);
        frame.Dispose();
    }

    [Fact]
    public void FramesStillHeldWhenTheReaderIsDisposedBecomeInvalid()
    {
        Frame frame = WriteAndRead(10, seed: 1);

        Writer.Dispose();
        Reader.Dispose();

        Assert.True(frame.IsReleased);
        Assert.Throws<ObjectDisposedException>(() => frame.Span.Length);
        frame.Dispose();
    }
}
