using System.Buffers;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A multi-segment ReadOnlySequence is written as one frame holding the segments back to back.</summary>
public sealed class SequenceWrites : BufferTest
{
    [Fact]
    public void ASequenceOfSeveralSegmentsArrivesAsOneFrameWithTheConcatenatedBytes()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);
        byte[] a = Patterns.Create(3, seed: 1), b = Patterns.Create(1000, seed: 2), c = [7], d = Patterns.Create(4096, seed: 4);
        ReadOnlySequence<byte> sequence = SequenceBuilder.From(a, b, c, d);
        Assert.False(sequence.IsSingleSegment);

        writer.Write(sequence, Safety.Timeout);

        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
        Assert.True(frame.Span.SequenceEqual([.. a, .. b, .. c, .. d]));
    }

    [Fact]
    public void ASingleSegmentSequenceAndSequenceWritesMixWithSpanWritesInOrder()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        writer.Write(new ReadOnlySequence<byte>(Patterns.Create(10, seed: 1)), Safety.Timeout);
        writer.Write(Patterns.Create(20, seed: 2), Safety.Timeout);
        Assert.Equal(WriteStatus.Success, writer.TryWrite(SequenceBuilder.From(Patterns.Create(30, seed: 3)), Safety.Timeout));

        for (ulong i = 1; i <= 3; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal(i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 10 * (int)i, seed: i);
        }
    }

    [Fact]
    public void AnEmptySequenceIsRejected()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        Assert.Throws<ArgumentException>(() => writer.Write(ReadOnlySequence<byte>.Empty, Safety.Timeout));
        Assert.Throws<ArgumentException>(() => writer.Write(SequenceBuilder.From([], []), Safety.Timeout));
    }
}
