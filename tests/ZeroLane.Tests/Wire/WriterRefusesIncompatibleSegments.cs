using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>
/// A writer checks the segment it connects to: a wrong oieb_size or major version is incompatible, sizes or
/// positions that cannot be right are corruption, and a missing or dead reader is reported as such.
/// </summary>
public sealed class WriterRefusesIncompatibleSegments : BufferTest
{
    private HandMadeBuffer Make(Action<RawSegment> tamper, long payloadSize = 1024) => HandMadeBuffer.Create(NewName(), 0, payloadSize, tamper);

    [Theory]
    [InlineData(64u)]
    [InlineData(127u)]
    [InlineData(256u)]
    [InlineData(0x80000080u)]
    public void AnOiebSizeOtherThan128IsIncompatible(uint oiebSize)
    {
        using HandMadeBuffer buffer = Make(s => s.SetU32(SpecLayout.OiebSizeField, oiebSize));

        var refused = Assert.Throws<IncompatibleBufferException>(() => new RingWriter(buffer.Name));

        Assert.Contains(oiebSize.ToString(System.Globalization.CultureInfo.InvariantCulture), refused.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, buffer.Segment.U64(SpecLayout.WriterPid));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(255)]
    public void AMajorVersionOtherThanOneIsIncompatible(byte major)
    {
        using HandMadeBuffer buffer = Make(s => s.SetU8(SpecLayout.VersionMajor, major));

        var refused = Assert.Throws<IncompatibleBufferException>(() => new RingWriter(buffer.Name));

        Assert.Contains($"{major}.0.0", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, buffer.Segment.U64(SpecLayout.WriterPid));
    }

    [Fact]
    public void ANewerMinorOrPatchVersionIsAccepted()
    {
        using HandMadeBuffer buffer = Make(s =>
        {
            s.SetU8(SpecLayout.VersionMinor, 7);
            s.SetU8(SpecLayout.VersionPatch, 3);
        });

        using var writer = new RingWriter(buffer.Name);
        writer.Write(new byte[] { 1 }, Safety.Timeout);

        Assert.True(buffer.TryReadFrame(out byte[] payload, out _));
        Assert.Equal([1], payload);
    }

    [Fact]
    public void ACorruptedOiebSizeInABufferOfOurOwnReaderIsIncompatibleToo()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1024 });
        using (var raw = RawSegment.Open(name))
        {
            raw.SetU32(SpecLayout.OiebSizeField, 96);
        }

        Assert.Throws<IncompatibleBufferException>(() => new RingWriter(name));
    }

    [Fact]
    public void AnOiebSizeOfZeroMeansTheReaderIsStillCreatingTheBuffer()
    {
        using HandMadeBuffer buffer = Make(s => s.SetU32(SpecLayout.OiebSizeField, 0));

        Assert.Throws<BufferNotFoundException>(() => new RingWriter(buffer.Name));
    }

    [Theory]
    [InlineData(SpecLayout.PayloadSize, 1UL << 40)]
    [InlineData(SpecLayout.MetadataSize, 4096UL)]
    [InlineData(SpecLayout.PayloadSize, 8UL)]
    public void BlockSizesThatDoNotFitTheSegmentAreCorruption(int field, ulong value)
    {
        using HandMadeBuffer buffer = Make(s => s.SetU64(field, value));

        Assert.Throws<BufferCorruptedException>(() => new RingWriter(buffer.Name));
    }

    [Fact]
    public void AWritePositionOutsideTheBlockIsCorruption()
    {
        using HandMadeBuffer buffer = Make(s => s.SetU64(SpecLayout.PayloadWritePos, 5000));

        var corrupted = Assert.Throws<BufferCorruptedException>(() => new RingWriter(buffer.Name));

        Assert.Contains("5000", corrupted.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, buffer.Segment.U64(SpecLayout.WriterPid));
    }

    [Fact]
    public void AWriterThatFailedToConnectLeavesTheBufferFreeForTheNextWriter()
    {
        using HandMadeBuffer buffer = Make(s => s.SetU64(SpecLayout.PayloadWritePos, 5000));
        Assert.Throws<BufferCorruptedException>(() => new RingWriter(buffer.Name));
        buffer.Segment.SetU64(SpecLayout.PayloadWritePos, 0); // the segment repaired

        using var writer = new RingWriter(buffer.Name);

        writer.Write(new byte[] { 1 }, Safety.Timeout);
        Assert.True(buffer.TryReadFrame(out _, out ulong sequence));
        Assert.Equal(1UL, sequence);
    }

    [Fact]
    public void FreeBytesLargerThanTheBlockAreCorruption()
    {
        using HandMadeBuffer buffer = Make(s => s.SetU64(SpecLayout.PayloadFreeBytes, 4096));
        using var writer = new RingWriter(buffer.Name);

        Assert.Throws<BufferCorruptedException>(() => writer.TryWrite(new byte[10], Safety.Timeout));
    }

    [Fact]
    public void AReadPositionOutsideTheBlockIsCorruptionWhenTheWriterResynchronisesAfterACrashedPredecessor()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1024 });
        using (var raw = RawSegment.Open(name))
        {
            raw.SetU64(SpecLayout.PayloadReadPos, 1UL << 33);
            // A predecessor that died while connected: the new writer resynchronises from read_pos.
            raw.SetU64(120, 1);
        }
        using var writer = new RingWriter(name);

        Assert.Throws<BufferCorruptedException>(() => writer.TryWrite(new byte[10], Safety.Timeout));
    }

    [Fact]
    public void ASegmentShorterThanTheOiebIsNotFound()
    {
        string name = NewName();
        using var stub = RawSegment.Create(name, 64);
        using var w = PeerSemaphore.Create(PeerSemaphore.WriteName(name));
        using var r = PeerSemaphore.Create(PeerSemaphore.ReadName(name));

        Assert.Throws<BufferNotFoundException>(() => new RingWriter(name));
    }

    [Fact]
    public void AMissingSemaphoreMeansTheBufferIsNotFound()
    {
        using HandMadeBuffer buffer = Make(_ => { });
        File.Delete("/dev/shm/sem.sem-r-" + buffer.Name);

        var missing = Assert.Throws<BufferNotFoundException>(() => new RingWriter(buffer.Name));

        Assert.Contains("sem-r-", missing.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, buffer.Segment.U64(SpecLayout.WriterPid));
    }

    [Fact]
    public void ASegmentWithoutAReaderPidHasNoLiveReader()
    {
        using HandMadeBuffer buffer = Make(s => s.SetU64(SpecLayout.ReaderPid, 0));

        Assert.Throws<ReaderGoneException>(() => new RingWriter(buffer.Name));
    }

    [Fact]
    public void ASegmentWhoseReaderProcessIsGoneHasNoLiveReader()
    {
        using HandMadeBuffer buffer = Make(s => s.SetU64(SpecLayout.ReaderPid, int.MaxValue - 1));

        Assert.Throws<ReaderGoneException>(() => new RingWriter(buffer.Name));
    }
}
