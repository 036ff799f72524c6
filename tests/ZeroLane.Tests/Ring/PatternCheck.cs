using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Frames of 1 B, 1 KiB, 1 MiB and 10 MiB arrive byte for byte.</summary>
public sealed class PatternCheck : BufferTest
{
    [Theory]
    [InlineData(1)]
    [InlineData(1024)]
    [InlineData(1 << 20)]
    [InlineData(10 << 20)]
    public void EveryByteOfAFrameArrivesAsWritten(int size)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 32 << 20 });
        using var writer = new RingWriter(name);

        byte[][] frames = [.. Enumerable.Range(1, 5).Select(i => Patterns.CreateRandom(size, seed: i))];

        Task writing = Safety.OnThread(() =>
        {
            foreach (byte[] data in frames)
            {
                writer.Write(data, Safety.Timeout);
            }
        });
        for (int i = 0; i < frames.Length; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i + 1, frame.Sequence);
            Assert.Equal(size, frame.Length);
            Assert.True(frame.Span.SequenceEqual(frames[i]), $"frame {i + 1} of {size} bytes differs");
        }

        Safety.Join(writing, "the writer");
    }
}
