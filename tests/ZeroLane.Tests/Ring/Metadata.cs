using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Metadata is written at most once, must fit its block, and needs a block to exist.</summary>
public sealed class Metadata : BufferTest
{
    [Fact]
    public void MetadataCanBeWrittenOnceAndASecondWriteFails()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 4096 });
        using var writer = new RingWriter(name);
        writer.SetMetadata(Patterns.Create(10, seed: 1));

        Assert.Throws<MetadataAlreadyWrittenException>(() => writer.SetMetadata(Patterns.Create(10, seed: 2)));
        Patterns.AssertMatches(reader.GetMetadata(), 10, seed: 1);
    }

    [Fact]
    public void ASecondWriterCannotReplaceTheMetadataOfTheFirst()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 4096 });
        using (var first = new RingWriter(name))
        {
            first.SetMetadata(Patterns.Create(10, seed: 1));
        }
        using var second = new RingWriter(name);

        Assert.Throws<MetadataAlreadyWrittenException>(() => second.SetMetadata(Patterns.Create(10, seed: 2)));
        Patterns.AssertMatches(reader.GetMetadata(), 10, seed: 1);
    }

    [Fact]
    public void MetadataLargerThanItsBlockFailsAndTheLargestThatFitsWorks()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        MetadataTooLargeException tooLarge = Assert.Throws<MetadataTooLargeException>(() => writer.SetMetadata(new byte[1024 - 8 + 1]));
        Assert.Equal(1024 - 8 + 1, tooLarge.Length);
        Assert.Equal(1024 - 8, tooLarge.Capacity);
        Assert.Throws<MetadataTooLargeException>(() => writer.SetMetadata(new byte[4096]));
        Assert.False(reader.HasMetadata);

        writer.SetMetadata(Patterns.Create(1024 - 8, seed: 3));
        Patterns.AssertMatches(reader.GetMetadata(), 1024 - 8, seed: 3);
        Assert.Equal(1024 - 8, reader.GetStats().MetadataLength);
    }

    [Fact]
    public void ABufferWithAZeroSizeMetadataBlockRejectsMetadata()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        Assert.Throws<InvalidOperationException>(() => writer.SetMetadata(new byte[] { 1 }));
        Assert.Equal(0, reader.MetadataCapacity);
        Assert.True(reader.GetMetadata().IsEmpty);
    }

    [Fact]
    public void EmptyMetadataIsRejected()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        Assert.Throws<ArgumentException>(() => writer.SetMetadata(ReadOnlySpan<byte>.Empty));
        Assert.False(reader.HasMetadata);
        writer.SetMetadata(new byte[] { 1 });
        Assert.True(reader.HasMetadata);
    }

    [Fact]
    public void TheMetadataBlockIsRoundedUpToSixtyFourBytes()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 100, PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        Assert.Equal(128, reader.MetadataCapacity);
        writer.SetMetadata(Patterns.Create(120, seed: 4));
        Patterns.AssertMatches(reader.GetMetadata(), 120, seed: 4);
    }
}
