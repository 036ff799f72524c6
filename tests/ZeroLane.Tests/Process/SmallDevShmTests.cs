using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A reader whose buffer does not fit in /dev/shm (a default Docker container has 64 MiB) fails at creation with a
/// clear error, instead of creating a sparse object whose first unbacked page would kill the writer with SIGBUS. Each
/// peer runs in a private mount namespace with a 1 MiB /dev/shm of its own, so real shm_open and real ENOSPC are
/// used without touching the machine's /dev/shm.
/// </summary>
public sealed class SmallDevShmTests : PeerTest
{
    [Fact]
    public void ABufferLargerThanDevShmIsRefusedAtCreationWithAClearError()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("small-shm");
        PeerProcess reader = StartPrivate("hold-reader", name, "--payload", (4 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), "--lock-dir", lockDirectory);

        string line = reader.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);

        Assert.StartsWith($"{PeerOutput.Error} IOException: /dev/shm has no room for shared memory object '{name}'", line);
        Assert.Contains("--shm-size", line);
        Assert.True(reader.WaitForExit(HangGuard), reader.Describe());
        Assert.Equal(ExitCodes.SetupFailed, reader.ExitCode);
        Assert.Empty(Leftovers(name, lockDirectory)); // the lock file (on the real /tmp) was removed too
    }

    [Fact]
    public void ABufferThatFitsInTheSameSmallDevShmIsCreated()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("small-shm");
        PeerProcess reader = StartPrivate("hold-reader", name, "--payload", (256 << 10).ToString(System.Globalization.CultureInfo.InvariantCulture), "--lock-dir", lockDirectory);

        string line = reader.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);

        Assert.True(PeerOutput.Is(line, PeerOutput.Ready), reader.Describe());
    }

    private PeerProcess StartPrivate(params string[] arguments) => StartPeerWithPrivateDevShm("1m", arguments);
}
