using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Several frames arrive in the order written, numbered 1, 2, 3, ...</summary>
public sealed class FramesKeepTheirOrder : BufferTest
{
    [Fact]
    public void SeveralFramesArriveInOrderWithConsecutiveSequenceNumbers()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);

        for (int i = 1; i <= 20; i++)
        {
            writer.Write(Patterns.Create(100 + i, seed: (ulong)i), Safety.Timeout);
        }
        for (int i = 1; i <= 20; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 100 + i, seed: (ulong)i);
        }
    }

    [Fact]
    public void FramesOfMixedSizesArriveInOrder()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);
        int[] sizes = [100, 1024, 10240, 1];

        for (int i = 0; i < sizes.Length; i++)
        {
            writer.Write(Patterns.Create(sizes[i], seed: (ulong)i), Safety.Timeout);
        }
        for (int i = 0; i < sizes.Length; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)(i + 1), frame.Sequence);
            Patterns.AssertMatches(frame.Span, sizes[i], seed: (ulong)i);
        }
    }
}
