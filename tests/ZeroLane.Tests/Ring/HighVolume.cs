using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>High volume through a small buffer: thousands of 1 KiB frames through 10240 bytes, no delays.</summary>
public sealed class HighVolume : BufferTest
{
    [Theory]
    [InlineData(5_000)]
    [InlineData(10_000)]
    public void ThousandsOfOneKibFramesThroughATenKibBlockAllArriveIntactAndInOrder(int frames)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);

        Task writing = Safety.OnThread(() =>
        {
            byte[] data = new byte[1024];
            for (int i = 1; i <= frames; i++)
            {
                Patterns.Fill(data, (ulong)i);
                writer.Write(data, Safety.Timeout);
            }
        });
        Task reading = Safety.OnThread(() =>
        {
            for (int i = 1; i <= frames; i++)
            {
                using Frame frame = reader.Read(Safety.Timeout);
                Assert.Equal((ulong)i, frame.Sequence);
                Patterns.AssertMatches(frame.Span, 1024, seed: (ulong)i);
            }
        });

        Safety.Join(writing, "the writer");
        Safety.Join(reading, "the reader");
        Assert.Equal(frames, reader.FramesRead);
        Assert.Equal(frames * 1024L, reader.BytesRead);
        Assert.Equal(10240, reader.GetStats().FreeBytes);
    }
}
