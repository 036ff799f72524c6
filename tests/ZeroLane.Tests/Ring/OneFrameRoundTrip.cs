using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Basic communication: one frame with metadata goes through a 1024/10240 buffer intact.</summary>
public sealed class OneFrameRoundTrip : BufferTest
{
    [Fact]
    public void AOneKibFrameWithMetadataArrivesWithItsContentSizeAndSequenceOne()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        byte[] metadata = Patterns.Create(100, seed: 99);
        byte[] data = Patterns.Create(1024, seed: 1);

        writer.SetMetadata(metadata);
        writer.Write(data, Safety.Timeout);
        using Frame frame = reader.Read(Safety.Timeout);

        Assert.Equal(1UL, frame.Sequence);
        Assert.Equal(1024, frame.Length);
        Assert.True(frame.Span.SequenceEqual(data));
        Assert.True(reader.HasMetadata);
        Assert.True(reader.GetMetadata().SequenceEqual(metadata));
        Assert.Equal(1, reader.FramesRead);
        Assert.Equal(1024, reader.BytesRead);
        Assert.Equal(1, writer.FramesWritten);
        Assert.Equal(1024, writer.BytesWritten);
        Assert.Equal(10240, reader.PayloadCapacity);
        Assert.Equal(1024, reader.MetadataCapacity);
    }

    [Fact]
    public void TheReaderSeesNoMetadataUntilTheWriterWritesIt()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 10240 });
        using var writer = new RingWriter(name);

        Assert.False(reader.HasMetadata);
        Assert.True(reader.GetMetadata().IsEmpty);
    }
}
