using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// A writer that connects and disconnects without writing a frame ends its session for the reader as one that wrote
/// does (<see cref="ReadStatus.WriterDisconnected"/>), however briefly it was there; once, not again on every read.
/// </summary>
public sealed class WriterSessionsWithoutFrames : BufferTest
{
    [Fact]
    public void AWriterThatConnectsAndLeavesWithoutWritingEndsTheReadersWait()
    {
        string name = NewName();
        // A peer check interval far beyond the test: only the writer's own traces can end the wait.
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 4096, PeerCheckInterval = TimeSpan.FromHours(1) });
        Task<ReadStatus> waiting = Safety.OnThread(() => reader.TryRead(out _, Safety.Timeout));

        new RingWriter(name).Dispose();

        Assert.Equal(ReadStatus.WriterDisconnected, Safety.Join(waiting));
        // Reported once: the next read waits for the next writer.
        Assert.Equal(ReadStatus.TimedOut, reader.TryRead(out _, TimeSpan.Zero));
    }

    [Fact]
    public async Task AnAsyncReadEndsTooWhenTheWriterLeftBeforeItStarted()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 4096, PeerCheckInterval = TimeSpan.FromHours(1) });
        new RingWriter(name).Dispose();

        ReadResult result = await reader.TryReadAsync(Safety.Timeout);

        Assert.Equal(ReadStatus.WriterDisconnected, result.Status);
    }

    [Fact]
    public void AWriterThatIsStillConnectedWithoutWritingEndsNothing()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        Assert.Equal(ReadStatus.TimedOut, reader.TryRead(out _, TimeSpan.FromMilliseconds(50)));

        writer.Write([7], Safety.Timeout);
        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
    }

    [Fact]
    public void EachOfSeveralEmptySessionsIsReportedAndFramesAfterThemArrive()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 4096, PeerCheckInterval = TimeSpan.FromHours(1) });
        for (int i = 0; i < 3; i++)
        {
            new RingWriter(name).Dispose();
            Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, Safety.Timeout));
        }
        using (var writer = new RingWriter(name))
        {
            writer.Write([1, 2, 3], Safety.Timeout);
        }

        using (Frame frame = reader.Read(Safety.Timeout))
        {
            Assert.Equal(new byte[] { 1, 2, 3 }, frame.Span.ToArray());
        }
        Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, Safety.Timeout));
    }
}
