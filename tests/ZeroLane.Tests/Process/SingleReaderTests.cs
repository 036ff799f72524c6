using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A buffer has one reader: a second reader in another process is refused while the first lives; once the
/// first is killed its objects stay behind until the next reader (of that name or any other) removes them.
/// </summary>
public sealed class SingleReaderTests : PeerTest
{
    private static readonly ReaderOptions s_options = new() { MetadataSize = 0, PayloadSize = 64 << 10 };

    [Fact]
    public void SecondReaderIsRejectedWhileAReaderProcessOwnsTheBuffer()
    {
        string name = NewName("2rproc");
        PeerProcess owner = StartHoldingReader(name);

        var inTestProcess = Assert.Throws<ReaderAlreadyConnectedException>(() => new RingReader(name, s_options));
        string inOtherProcess = StartPeer("hold-reader", name).WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);

        Assert.Contains($"'{name}'", inTestProcess.Message);
        Assert.StartsWith($"{PeerOutput.Error} {nameof(ReaderAlreadyConnectedException)}:", inOtherProcess);
        // The refused readers removed nothing: the owner's buffer still takes a writer.
        Assert.Equal(4, Leftovers(name).Length);
        using var writer = new RingWriter(name);
        Assert.True(writer.IsReaderConnected);
        Assert.Equal(owner.Id, writer.GetStats().ReaderPid);
    }

    [Fact]
    public void ReaderProcessIsRejectedWhileTheTestProcessOwnsTheBuffer()
    {
        string name = NewName("2rtest");
        using var reader = new RingReader(name, s_options);

        PeerProcess second = StartPeer("hold-reader", name);
        string line = second.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);

        Assert.StartsWith($"{PeerOutput.Error} {nameof(ReaderAlreadyConnectedException)}:", line);
        Assert.True(second.WaitForExit(HangGuard), second.Describe());
        Assert.Equal(ExitCodes.SetupFailed, second.ExitCode);
        Assert.Equal(4, Leftovers(name).Length);
        Assert.Equal(Environment.ProcessId, reader.GetStats().ReaderPid);
    }

    [Fact]
    public void KilledReadersStaleBufferIsRemovedByTheNextReaderOfThatName()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("stale");
        StartHoldingReader(name, "--lock-dir", lockDirectory).Kill();
        Assert.Equal(4, Leftovers(name, lockDirectory).Length);

        using (var reader = new RingReader(name, s_options with { LockDirectory = lockDirectory }))
        {
            Assert.Equal(Environment.ProcessId, reader.GetStats().ReaderPid);
            StartConnectedWriter(name, "--size", "500", "--count", "20");
            for (ulong sequence = 1; sequence <= 20; sequence++)
            {
                ReadPatternedFrame(reader, sequence, 500);
            }
        }

        Assert.Empty(Leftovers(name, lockDirectory));
    }

    [Fact]
    public void StaleBuffersOfOtherNamesAreRemovedByTheNextReaderThatStarts()
    {
        string lockDirectory = NewLockDirectory();
        string[] dead = [NewName("staleA"), NewName("staleB"), NewName("staleC")];
        foreach (string name in dead)
        {
            StartHoldingReader(name, "--lock-dir", lockDirectory).Kill();
            Assert.Equal(4, Leftovers(name, lockDirectory).Length);
        }
        string alive = NewName("staleLive");
        PeerProcess liveReader = StartHoldingReader(alive, "--lock-dir", lockDirectory);

        using var reader = new RingReader(NewName("staleNext"), s_options with { LockDirectory = lockDirectory });

        foreach (string name in dead)
        {
            Assert.Empty(Leftovers(name, lockDirectory));
        }
        Assert.Equal(4, Leftovers(alive, lockDirectory).Length);
        using var writer = new RingWriter(alive);
        Assert.Equal(liveReader.Id, writer.GetStats().ReaderPid);
    }
}
