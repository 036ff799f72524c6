using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Several frames may be held at once and released in any order, but their space returns to the writer in
/// ring order: while the oldest is held, releasing newer ones frees nothing.
/// </summary>
public sealed class HeldFrames : RingPairTest
{
    private const int PayloadSize = 1024;
    private const int FrameTotal = 256; // 240 bytes + header: four fill the block exactly

    public HeldFrames()
        : base(new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize })
    {
        for (ulong i = 1; i <= 4; i++)
        {
            Writer.Write(Patterns.Create(FrameTotal - 16, seed: i), Safety.Timeout);
        }
    }

    private long FreeBytes => Reader.GetStats().FreeBytes;

    private Frame[] ReadAll() => [.. Enumerable.Range(0, 4).Select(_ => Reader.Read(Safety.Timeout))];

    [Fact]
    public void SeveralHeldFramesStayReadableUntilEachIsReleased()
    {
        Frame[] frames = ReadAll();
        Assert.Equal(4, Reader.FramesHeld);

        frames[1].Dispose();

        Patterns.AssertMatches(frames[0].Span, FrameTotal - 16, seed: 1);
        Patterns.AssertMatches(frames[2].Span, FrameTotal - 16, seed: 3);
        Patterns.AssertMatches(frames[3].Span, FrameTotal - 16, seed: 4);
        Assert.True(frames[1].IsReleased);
        Assert.False(frames[0].IsReleased);
        Assert.Equal(3, Reader.FramesHeld);
        frames[3].Dispose();
        frames[0].Dispose();
        frames[2].Dispose();
        Assert.Equal(0, Reader.FramesHeld);
        Assert.Equal(PayloadSize, FreeBytes);
    }

    [Fact]
    public void ReleasingNewerFramesWhileTheOldestIsHeldFreesNoSpaceAndTheWriterStaysBlocked()
    {
        Frame[] frames = ReadAll();
        Assert.Equal(0, FreeBytes);

        frames[3].Dispose();
        frames[1].Dispose();
        frames[2].Dispose();

        Assert.Equal(0, FreeBytes);
        Assert.Equal(WriteStatus.TimedOut, Writer.TryWrite(new byte[FrameTotal - 16], Safety.Short));

        frames[0].Dispose();

        Assert.Equal(PayloadSize, FreeBytes);
        Assert.Equal(WriteStatus.Success, Writer.TryWrite(new byte[FrameTotal - 16], Safety.Timeout));
    }

    [Fact]
    public void ReleasingTheOldestCreditsItAndEveryReleasedFrameAfterItUpToTheFirstHeldOne()
    {
        Frame[] frames = ReadAll();

        frames[2].Dispose();
        frames[0].Dispose();
        Assert.Equal(FrameTotal, FreeBytes);

        frames[1].Dispose();
        Assert.Equal(3 * FrameTotal, FreeBytes);

        frames[3].Dispose();
        Assert.Equal(PayloadSize, FreeBytes);
    }

    [Fact]
    public void ReleaseThroughTheReaderIsTheSameAsDisposingTheFrame()
    {
        Frame first = Reader.Read(Safety.Timeout);

        Reader.Release(first);

        Assert.True(first.IsReleased);
        Assert.Equal(FrameTotal, FreeBytes);
    }

    [Fact]
    public void HundredsOfHeldFramesReleasedInShuffledOrderReturnTheirSpaceExactlyInRingOrder()
    {
        const int count = 300, length = 40, total = length + 16;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);
        for (ulong i = 1; i <= count; i++)
        {
            writer.Write(Patterns.Create(length, seed: i), Safety.Timeout);
        }
        Frame[] frames = [.. Enumerable.Range(0, count).Select(_ => reader.Read(Safety.Timeout))];
        int[] order = [.. Enumerable.Range(0, count).OrderBy(i => (i * 7919) % count)];
        var released = new bool[count];

        foreach (int index in order)
        {
            frames[index].Dispose();
            released[index] = true;
            int firstHeld = Array.IndexOf(released, false);
            long expectedUsed = firstHeld < 0 ? 0 : (long)(count - firstHeld) * total;
            Assert.Equal(64 * 1024 - expectedUsed, reader.GetStats().FreeBytes);
            for (int other = 0; other < count; other += 37)
            {
                if (!released[other])
                {
                    Patterns.AssertMatches(frames[other].Span, length, seed: (ulong)other + 1);
                }
            }
        }

        Assert.Equal(0, reader.FramesHeld);
        Assert.Equal((ulong)count, reader.GetStats().FramesRead);
    }

    [Fact]
    public void FramesMayBeReleasedOnAnotherThreadThanTheOneThatReadThem()
    {
        const int count = 5000;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 8192 });
        using var writer = new RingWriter(name);
        using var handOver = new System.Collections.Concurrent.BlockingCollection<Frame>(boundedCapacity: 16);

        Task writing = Safety.OnThread(() =>
        {
            for (int i = 1; i <= count; i++)
            {
                writer.Write(Patterns.Create(1 + i % 300, seed: (ulong)i), Safety.Timeout);
            }
        });
        Task reading = Safety.OnThread(() =>
        {
            for (int i = 1; i <= count; i++)
            {
                Frame frame = reader.Read(Safety.Timeout);
                Assert.Equal((ulong)i, frame.Sequence);
                Assert.True(handOver.TryAdd(frame, Safety.Timeout), "the releasing thread stopped taking frames");
            }
            handOver.CompleteAdding();
        });
        Task releasing = Safety.OnThread(() =>
        {
            var batch = new List<Frame>();
            foreach (Frame frame in handOver.GetConsumingEnumerable())
            {
                Patterns.AssertMatches(frame.Span, 1 + (int)(frame.Sequence % 300), seed: frame.Sequence);
                batch.Add(frame);
                if (batch.Count == 4)
                {
                    // Newest first: out of ring order.
                    for (int j = batch.Count - 1; j >= 0; j--)
                    {
                        batch[j].Dispose();
                    }
                    batch.Clear();
                }
            }
            batch.ForEach(f => f.Dispose());
        });

        Safety.Join(writing, "the writer");
        Safety.Join(reading, "the reader");
        Safety.Join(releasing, "the releasing thread");
        Assert.Equal(8192, reader.GetStats().FreeBytes);
    }
}
