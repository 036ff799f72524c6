using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A slow reader with a fast writer: the writer waits, nothing is lost and order is kept.</summary>
public sealed class SlowReader : BufferTest
{
    [Fact]
    public void AReaderSleepingOnEveryFrameMissesNothingAndKeepsOrder()
    {
        const int frames = 30;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 512 });
        using var writer = new RingWriter(name);

        Task writing = Safety.OnThread(() =>
        {
            for (int i = 1; i <= frames; i++)
            {
                writer.Write(Patterns.Create(100, seed: (ulong)i), Safety.Timeout);
            }
        });
        Task reading = Safety.OnThread(() =>
        {
            for (int i = 1; i <= frames; i++)
            {
                using Frame frame = reader.Read(Safety.Timeout);
                Assert.Equal((ulong)i, frame.Sequence);
                Patterns.AssertMatches(frame.Span, 100, seed: (ulong)i);
                // A slow consumer; the sleep only makes the writer wait, it is not measured.
                Thread.Sleep(i % 3 == 0 ? 50 : 10);
            }
        });

        Safety.Join(writing, "the writer");
        Safety.Join(reading, "the reader");
        Assert.Equal(frames, reader.FramesRead);
    }
}
