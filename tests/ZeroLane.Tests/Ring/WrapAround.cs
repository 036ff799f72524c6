using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>6144 then 7168 bytes into 10240: the second frame waits for the first to be released, then wraps to offset 0.</summary>
public sealed class WrapAround : BufferTest
{
    [Fact]
    public void TheSecondFrameWaitsForTheFirstReleaseThenWrapsToTheStartOfTheBlock()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);
        using var firstHeld = new ManualResetEventSlim();
        using var releaseFirst = new ManualResetEventSlim();
        writer.Write(Patterns.Create(6144, seed: 1), Safety.Timeout);

        Task reading = Safety.OnThread(() =>
        {
            using (Frame first = reader.Read(Safety.Timeout))
            {
                Patterns.AssertMatches(first.Span, 6144, seed: 1);
                firstHeld.Set();
                Safety.Wait(releaseFirst, "the signal to release the first frame");
            }
            using Frame second = reader.Read(Safety.Timeout);
            Assert.Equal(2UL, second.Sequence);
            Patterns.AssertMatches(second.Span, 7168, seed: 2);
        });
        Safety.Wait(firstHeld, "the reader holding the first frame");

        Assert.Equal(WriteStatus.TimedOut, writer.TryWrite(Patterns.Create(7168, seed: 2), Safety.Short));
        releaseFirst.Set();
        Assert.Equal(WriteStatus.Success, writer.TryWrite(Patterns.Create(7168, seed: 2), Safety.Timeout));

        Assert.Equal(16UL + 7168, raw.U64(SpecLayout.PayloadWritePos));
        Safety.Join(reading, "the reader");
        Assert.Equal(10240, reader.GetStats().FreeBytes);
    }

    /// <summary>6144 then 5000 bytes: the second frame wraps but ends before the marker, so the marker stays visible.</summary>
    [Fact]
    public void AWrapLeavesAMarkerOfSizeZeroAndSequenceZeroWhereTheFrameDidNotFit()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);
        long payload = SpecLayout.PayloadOffset(0);
        writer.Write(Patterns.Create(6144, seed: 1), Safety.Timeout);
        reader.Read(Safety.Timeout).Dispose();
        raw.Bytes(payload + 6160, 16).Fill(0xEE);

        writer.Write(Patterns.Create(5000, seed: 2), Safety.Timeout);

        Assert.True(raw.Bytes(payload + 6160, 16).IndexOfAnyExcept((byte)0) < 0, "a wrap marker is 16 zero bytes");
        Assert.Equal(5000UL, raw.U64(payload + SpecLayout.FramePayloadSize));
        Assert.Equal(2UL, raw.U64(payload + SpecLayout.FrameSequence));
        Assert.Equal(3UL, raw.U64(SpecLayout.PayloadWrittenCount));
        Assert.Equal(5016UL, raw.U64(SpecLayout.PayloadWritePos));
        Assert.Equal(10240UL - 4080 - 5016, raw.U64(SpecLayout.PayloadFreeBytes));
        using Frame second = reader.Read(Safety.Timeout);
        Patterns.AssertMatches(second.Span, 5000, seed: 2);
        Assert.Equal(10240UL - 5016, raw.U64(SpecLayout.PayloadFreeBytes));
    }

    [Fact]
    public void FramesOfManySizesKeepWrappingWithoutLossWithAReaderThread()
    {
        const int frames = 3000;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);

        Task writing = Safety.OnThread(() =>
        {
            for (int i = 1; i <= frames; i++)
            {
                writer.Write(Patterns.Create(SizeOf(i), seed: (ulong)i), Safety.Timeout);
            }
        });
        for (int i = 1; i <= frames; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, SizeOf(i), seed: (ulong)i);
        }

        Safety.Join(writing, "the writer");
    }

    private static int SizeOf(int i) => 1 + (int)((uint)(i * 2654435761u) % 7000);
}
