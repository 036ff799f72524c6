using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>A writer process killed with SIGKILL: the reader first reads every frame it committed, then reports it dead.</summary>
public sealed class WriterDeathTests : PeerTest
{
    private static readonly ReaderOptions s_options = new()
    {
        MetadataSize = 0,
        PayloadSize = 1 << 20,
        PeerCheckInterval = TimeSpan.FromMilliseconds(100),
    };

    [Fact]
    public void ReaderReadsEveryCommittedFrameThenReportsWriterDied()
    {
        string name = NewName("wdied");
        using var reader = new RingReader(name, s_options);
        PeerProcess writer = StartConnectedWriter(name, "--size", "1000", "--count", "50", "--hold");
        writer.WaitForLine(PeerOutput.Written);

        writer.Kill();

        for (ulong sequence = 1; sequence <= 50; sequence++)
        {
            ReadPatternedFrame(reader, sequence, 1000);
        }
        Assert.Equal(ReadStatus.WriterDied, reader.TryRead(out _, HangGuard));
        Assert.False(reader.IsWriterConnected);
        Assert.Equal(0, reader.GetStats().WriterPid);
    }

    [Fact]
    public async Task ReaderBlockedWaitingForAFrameReportsWriterDied()
    {
        string name = NewName("wdiedwait");
        using var reader = new RingReader(name, s_options);
        PeerProcess writer = StartConnectedWriter(name, "--size", "100", "--count", "3", "--hold");
        writer.WaitForLine(PeerOutput.Written);
        for (ulong sequence = 1; sequence <= 3; sequence++)
        {
            ReadPatternedFrame(reader, sequence, 100);
        }
        Task<ReadStatus> blockedRead = Task.Factory.StartNew(() => reader.TryRead(out _, HangGuard), TaskCreationOptions.LongRunning);

        writer.Kill();

        Assert.Equal(ReadStatus.WriterDied, await blockedRead.WaitAsync(HangGuard));
    }

    [Fact]
    public void ReaderReportsWriterDiedWhenTheKilledWriterIsAZombieItsParentHasNotReaped()
    {
        // A dead process stays a zombie until its parent calls wait(); kill(pid, 0) still succeeds and
        // /proc/PID/stat still shows its start time, but it runs no more and will never disconnect.
        string name = NewName("wzombie");
        using var reader = new RingReader(name, s_options);
        (PeerProcess parent, int writerPid) = StartPeerUnderNonReapingParent("writer", name, "--size", "100", "--count", "3", "--hold");
        parent.WaitForLine(PeerOutput.Written);

        KillAndLeaveZombie(writerPid);

        for (ulong sequence = 1; sequence <= 3; sequence++)
        {
            ReadPatternedFrame(reader, sequence, 100);
        }
        Assert.Equal(ReadStatus.WriterDied, reader.TryRead(out _, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ReadAllAsyncYieldsEveryCommittedFrameThenThrowsWriterGoneMarkedAsCrashed()
    {
        string name = NewName("wdiedasync");
        using var reader = new RingReader(name, s_options);
        PeerProcess writer = StartConnectedWriter(name, "--size", "2000", "--count", "20", "--hold");
        writer.WaitForLine(PeerOutput.Written);
        writer.Kill();

        var sequences = new List<ulong>();
        using var guard = new CancellationTokenSource(HangGuard);
        WriterGoneException gone = await Assert.ThrowsAsync<WriterGoneException>(async () =>
        {
            await foreach (Frame frame in reader.ReadAllAsync(guard.Token))
            {
                Assert.Null(FramePattern.Verify(frame.Span, frame.Sequence));
                sequences.Add(frame.Sequence);
            }
        });

        Assert.True(gone.Crashed);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (ulong)i), sequences);
    }
}
