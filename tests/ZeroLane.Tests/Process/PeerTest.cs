using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

// Namespace CrossProcess rather than Process: a namespace ZeroLane.Tests.Process would shadow
// System.Diagnostics.Process in every ZeroLane.Tests.* namespace.
namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// Base for tests with child processes: every peer it starts is killed when the test ends, pass or fail,
/// before the buffers' objects and private lock directories are removed.
/// </summary>
public abstract class PeerTest : BufferTest
{
    /// <summary>Safety net against hangs; never a pass/fail criterion.</summary>
    protected static readonly TimeSpan HangGuard = PeerProcess.DefaultTimeout;

    private static int s_lockDirectoryCounter;
    private readonly List<PeerProcess> _peers = new();
    private readonly List<string> _lockDirectories = new();

    /// <summary>Starts a peer with a private /dev/shm of <paramref name="devShmSize"/> (see <see cref="PeerProcess.StartWithPrivateDevShm"/>); killed when the test ends.</summary>
    internal PeerProcess StartPeerWithPrivateDevShm(string devShmSize, params string[] arguments)
    {
        PeerProcess peer = PeerProcess.StartWithPrivateDevShm(devShmSize, arguments);
        lock (_peers)
        {
            _peers.Add(peer);
        }
        return peer;
    }

    /// <summary>Starts a peer that is killed when the test ends.</summary>
    internal PeerProcess StartPeer(params string[] arguments)
    {
        PeerProcess peer = PeerProcess.Start(arguments);
        lock (_peers)
        {
            _peers.Add(peer);
        }
        return peer;
    }

    /// <summary>
    /// Starts a peer whose parent never reaps it, so that once killed it stays a zombie; killed when the test
    /// ends. Returns the parent and the peer's own PID, read from its first READY, CONNECTED or ERROR line.
    /// </summary>
    internal (PeerProcess Parent, int PeerPid) StartPeerUnderNonReapingParent(params string[] arguments)
    {
        PeerProcess parent = PeerProcess.StartUnderNonReapingParent(arguments);
        lock (_peers)
        {
            _peers.Add(parent);
        }
        string line = parent.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Connected, PeerOutput.Error);
        Assert.False(PeerOutput.Is(line, PeerOutput.Error), parent.Describe());
        return (parent, PeerProcess.PidIn(line));
    }

    /// <summary>Sends SIGKILL to a process that is not our child and waits until it is a zombie (dead, not reaped).</summary>
    protected static void KillAndLeaveZombie(int pid)
    {
        System.Diagnostics.Process.GetProcessById(pid).Kill();
        Assert.True(SpinWait.SpinUntil(() => PeerProcess.StateOf(pid) == 'Z', HangGuard), $"process {pid} did not become a zombie");
    }

    /// <summary>Starts <c>hold-reader NAME</c> (plus options) and waits until it has created the buffer.</summary>
    internal PeerProcess StartHoldingReader(string name, params string[] options)
    {
        PeerProcess reader = StartPeer(["hold-reader", name, .. options]);
        string line = reader.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);
        Assert.True(PeerOutput.Is(line, PeerOutput.Ready), reader.Describe());
        return reader;
    }

    /// <summary>
    /// Starts a writer peer and waits until it has connected; while another writer's claim is still in
    /// place (WriterAlreadyConnectedException) it starts a new one, a bounded number of times.
    /// </summary>
    internal PeerProcess StartConnectedWriter(string name, params string[] options)
    {
        for (int attempt = 1; ; attempt++)
        {
            PeerProcess writer = StartPeer(["writer", name, .. options]);
            string line = writer.WaitForAnyLine(PeerOutput.Connected, PeerOutput.Error);
            if (PeerOutput.Is(line, PeerOutput.Connected))
            {
                return writer;
            }
            Assert.True(line.Contains(nameof(WriterAlreadyConnectedException), StringComparison.Ordinal) && attempt < 50, writer.Describe());
            writer.Dispose();
            Thread.Sleep(20);
        }
    }

    /// <summary>A private lock directory (removed after the test), so that no other test's reader cleans up its stale buffers.</summary>
    protected string NewLockDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"zltest-locks-{Environment.ProcessId}-{Interlocked.Increment(ref s_lockDirectoryCounter)}");
        _lockDirectories.Add(directory);
        return directory;
    }

    /// <summary>The paths of the buffer's four objects that exist.</summary>
    protected static string[] Leftovers(string name, string lockDirectory = BufferNames.DefaultLockDirectory) =>
        TestBuffers.Leftovers(name, lockDirectory);

    /// <summary>Reads one frame (hang guard only) and checks it against the pattern for its sequence number.</summary>
    protected static void ReadPatternedFrame(RingReader reader, ulong expectedSequence, int? expectedLength = null)
    {
        ReadStatus status = reader.TryRead(out Frame frame, HangGuard);
        Assert.Equal(ReadStatus.Success, status);
        using (frame)
        {
            Assert.Equal(expectedSequence, frame.Sequence);
            if (expectedLength is { } length)
            {
                Assert.Equal(length, frame.Length);
            }
            Assert.Null(FramePattern.Verify(frame.Span, frame.Sequence));
        }
    }

    /// <summary>A frame of <paramref name="length"/> bytes with the pattern for <paramref name="sequence"/>.</summary>
    protected static byte[] PatternedFrame(ulong sequence, int length)
    {
        byte[] frame = new byte[length];
        FramePattern.Fill(frame, sequence);
        return frame;
    }

    public override void Dispose()
    {
        List<PeerProcess> peers;
        lock (_peers)
        {
            peers = _peers.ToList();
        }
        foreach (PeerProcess peer in peers)
        {
            peer.Dispose();
        }
        base.Dispose();
        foreach (string directory in _lockDirectories)
        {
            try
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
            catch (IOException)
            {
            }
        }
        GC.SuppressFinalize(this);
    }
}
