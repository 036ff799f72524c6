using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>BufferInspector reads a buffer's figures without attaching to it as reader or writer.</summary>
public sealed class BufferInspection : BufferTest
{
    [Fact]
    public void TryGetStatsReportsTheFiguresOfALiveBuffer()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        writer.SetMetadata(new byte[100]);
        writer.Write(new byte[1000], Safety.Timeout);
        writer.Write(new byte[500], Safety.Timeout);
        reader.Read(Safety.Timeout).Dispose();

        BufferStats stats = TestBuffers.StatsOrNull(name)!;

        Assert.NotNull(stats);
        Assert.Equal(name, stats.Name);
        Assert.Equal(10240, stats.PayloadCapacity);
        Assert.Equal(10240 - 516, stats.FreeBytes);
        Assert.Equal(1024, stats.MetadataCapacity);
        Assert.Equal(100, stats.MetadataLength);
        Assert.Equal(2UL, stats.FramesWritten);
        Assert.Equal(1UL, stats.FramesRead);
        Assert.Equal(Environment.ProcessId, stats.WriterPid);
        Assert.True(stats.WriterAlive);
        Assert.Equal(Environment.ProcessId, stats.ReaderPid);
        Assert.True(stats.ReaderAlive);
        Assert.True(stats.ZeroLaneReader);
    }

    [Fact]
    public void InspectingABufferDoesNotAttachToIt()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });

        BufferStats before = TestBuffers.StatsOrNull(name)!;
        Assert.Equal(0, before.WriterPid);
        Assert.False(before.WriterAlive);

        using var writer = new RingWriter(name);
        writer.Write(new byte[] { 1 }, Safety.Timeout);
        TestBuffers.StatsOrNull(name);
        Assert.False(BufferInspector.Clean(name));
        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
        Assert.Equal(Environment.ProcessId, TestBuffers.StatsOrNull(name)!.ReaderPid);
    }

    [Fact]
    public void TryGetStatsReturnsNullForABufferThatDoesNotExist()
    {
        Assert.Null(TestBuffers.StatsOrNull(NewName()));
    }

    [Fact]
    public void ListIncludesALiveBuffer()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });

        Assert.Contains(BufferInspector.List(), stats => stats.Name == name && stats.ReaderAlive);
        Assert.DoesNotContain(name, BufferInspector.FindStale());
    }
}
