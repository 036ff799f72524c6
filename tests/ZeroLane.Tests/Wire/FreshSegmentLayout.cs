using System.Globalization;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>The segment a RingReader creates, read back byte by byte, is laid out as the spec says.</summary>
public sealed class FreshSegmentLayout : BufferTest
{
    private static ulong StartTimeOfThisProcess()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return ulong.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
    }

    [Fact]
    public void TheOiebOfANewBufferHoldsTheSpecValues()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 100, PayloadSize = 10000 });
        using var raw = RawSegment.Open(name);

        Assert.Equal(128 + 128 + 10048, raw.Length);
        Assert.Equal(128u, raw.U32(SpecLayout.OiebSizeField));
        Assert.Equal([1, 0, 0, 0], raw.Bytes(SpecLayout.VersionMajor, 4).ToArray());
        Assert.Equal(128UL, raw.U64(SpecLayout.MetadataSize));
        Assert.Equal(128UL, raw.U64(SpecLayout.MetadataFreeBytes));
        Assert.Equal(0UL, raw.U64(SpecLayout.MetadataWrittenBytes));
        Assert.Equal(10048UL, raw.U64(SpecLayout.PayloadSize));
        Assert.Equal(10048UL, raw.U64(SpecLayout.PayloadFreeBytes));
        Assert.Equal(0UL, raw.U64(SpecLayout.PayloadWritePos));
        Assert.Equal(0UL, raw.U64(SpecLayout.PayloadReadPos));
        Assert.Equal(0UL, raw.U64(SpecLayout.PayloadWrittenCount));
        Assert.Equal(0UL, raw.U64(SpecLayout.PayloadReadCount));
        Assert.Equal(0UL, raw.U64(SpecLayout.WriterPid));
        Assert.Equal((ulong)Environment.ProcessId, raw.U64(SpecLayout.ReaderPid));
    }

    [Fact]
    public void TheReservedBytesCarryOnlyTheZeroLaneExtension()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 });
        using var raw = RawSegment.Open(name);

        Assert.Equal(0UL, raw.U64(SpecLayout.WriterStartTime));
        Assert.Equal(StartTimeOfThisProcess(), raw.U64(SpecLayout.ReaderStartTime));
        Assert.Equal("ZLN1", System.Text.Encoding.ASCII.GetString(raw.Bytes(SpecLayout.ExtensionMagic, 4)));
        Assert.Equal(1u, raw.U32(SpecLayout.ExtensionFlags));
        Assert.Equal(0UL, raw.U64(120));
    }

    [Fact]
    public void AConnectedWriterRecordsItsPidAndStartTime()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 });
        using var raw = RawSegment.Open(name);

        using (var writer = new RingWriter(name))
        {
            Assert.Equal((ulong)Environment.ProcessId, raw.U64(SpecLayout.WriterPid));
            Assert.Equal(StartTimeOfThisProcess(), raw.U64(SpecLayout.WriterStartTime));
        }

        Assert.Equal(0UL, raw.U64(SpecLayout.WriterPid));
        Assert.Equal(0UL, raw.U64(SpecLayout.WriterStartTime));
    }

    [Fact]
    public void TheMetadataAndPayloadBlocksStartZeroFilled()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 4096 });
        using var raw = RawSegment.Open(name);

        Assert.True(raw.Bytes(128, 1024 + 4096).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void TheSemaphoresStartAtZero()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 });
        using PeerSemaphore write = PeerSemaphore.Open(PeerSemaphore.WriteName(name));
        using PeerSemaphore read = PeerSemaphore.Open(PeerSemaphore.ReadName(name));

        Assert.Equal(0, write.Value);
        Assert.Equal(0, read.Value);
    }
}
