using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A full buffer makes writes wait (and time out) until the reader releases a frame.</summary>
public sealed class FullBufferBlocksTheWriter : BufferTest
{
    [Fact]
    public void WritesTimeOutWhileTheBufferIsFullAndSucceedOnceTheReaderReleasesAFrame()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        byte[] data = new byte[1024];

        int written = 0;
        while (writer.TryWrite(data, TimeSpan.Zero) == WriteStatus.Success)
        {
            written++;
        }
        Assert.Equal(10240 / (16 + 1024), written);

        Assert.Equal(WriteStatus.TimedOut, writer.TryWrite(data, Safety.Short));
        Assert.Throws<TimeoutException>(() => writer.Write(data, Safety.Short));
        Frame first = reader.Read(Safety.Timeout);
        Assert.Equal(WriteStatus.TimedOut, writer.TryWrite(data, Safety.Short));

        first.Dispose();

        Assert.Equal(WriteStatus.Success, writer.TryWrite(data, Safety.Timeout));
        Assert.Equal(written + 1, writer.FramesWritten);
    }

    [Fact]
    public void ABlockedWriteCompletesWhenAReaderThreadReleasesAFrame()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1024 });
        using var writer = new RingWriter(name);
        while (writer.TryWrite(new byte[200], TimeSpan.Zero) == WriteStatus.Success)
        {
        }
        using var readerStarted = new ManualResetEventSlim();

        Task release = Safety.OnThread(() =>
        {
            readerStarted.Set();
            reader.Read(Safety.Timeout).Dispose();
        });
        Safety.Wait(readerStarted, "the reader thread starting");
        writer.Write(new byte[200], Safety.Timeout);

        Safety.Join(release);
    }
}
