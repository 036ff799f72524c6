using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A child process reads the far end of a mapped array after this process truncated the file: with the fault guard
/// it gets an exception and lives on; without it (ZEROLANE_FAULT_GUARD=0) the SIGBUS kills it; and a SIGBUS on a
/// mapping that is not ZeroLane's still reaches the runtime, which ends the process as it would without us.
/// </summary>
public sealed class TruncatedArraysAcrossProcesses : IDisposable
{
    private const int Count = 64 * 1024;
    private readonly string _path = Path.Combine(Path.GetTempPath(), TestBuffers.UniqueName("truncated") + ".npy");
    private readonly List<PeerProcess> _peers = new();

    public TruncatedArraysAcrossProcesses()
    {
        MappedArray<int>.Save(_path, Enumerable.Range(1, Count).ToArray(), [Count]);
    }

    [Fact]
    public void AChildThatTouchesTheLostPagesGetsAnExceptionAndLivesOn()
    {
        Prerequisites.FaultGuard.Require();
        PeerProcess peer = Start(new Dictionary<string, string>(), "--via", "array");
        Assert.Contains("guard=True", peer.WaitForLine(PeerOutput.Ready));

        TruncateAndGo(peer);

        string outcome = peer.WaitForAnyLine(PeerOutput.Value, PeerOutput.Threw);
        Assert.StartsWith($"{PeerOutput.Threw} {nameof(MappedArrayFormatException)}: ", outcome);
        Assert.Contains("shrank while it was mapped", outcome);
        Assert.True(peer.WaitForExit(), peer.Describe());
        Assert.Equal(ExitCodes.Success, peer.ExitCode);
    }

    [Fact]
    public void WithTheGuardSwitchedOffTheSameTouchKillsTheChild()
    {
        PeerProcess peer = Start(new Dictionary<string, string> { ["ZEROLANE_FAULT_GUARD"] = "0" }, "--via", "array");
        Assert.Contains("guard=False", peer.WaitForLine(PeerOutput.Ready));

        TruncateAndGo(peer);

        AssertKilledByTheRuntime(peer);
    }

    [Fact]
    public void ASigbusOnAMappingThatIsNotZeroLanesStillReachesTheRuntime()
    {
        Prerequisites.FaultGuard.Require();
        PeerProcess peer = Start(new Dictionary<string, string>(), "--via", "foreign-mapping");
        Assert.Contains("guard=True", peer.WaitForLine(PeerOutput.Ready));

        TruncateAndGo(peer);

        AssertKilledByTheRuntime(peer);
    }

    private PeerProcess Start(Dictionary<string, string> environment, params string[] options)
    {
        PeerProcess peer = PeerProcess.StartWithEnvironment(environment, ["touch-truncated", _path, .. options]);
        _peers.Add(peer);
        return peer;
    }

    private void TruncateAndGo(PeerProcess peer)
    {
        long headerLength = MappedArray.ReadHeader(_path).DataOffset;
        ExternalCommand.Truncate(_path, headerLength + 4096);
        peer.Send(PeerOutput.GoCommand);
    }

    /// <summary>The runtime's own SIGBUS handling: a fatal AccessViolationException and an abort, not a value or an exception the child caught.</summary>
    private static void AssertKilledByTheRuntime(PeerProcess peer)
    {
        Assert.True(peer.WaitForExit(), peer.Describe());
        Assert.NotEqual(ExitCodes.Success, peer.ExitCode);
        Assert.Contains("AccessViolationException", peer.ErrorOutput);
        Assert.DoesNotContain(peer.Describe().Split('\n'), line => line.Trim().StartsWith(PeerOutput.Value, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        foreach (PeerProcess peer in _peers)
        {
            peer.Dispose();
        }
        File.Delete(_path);
    }
}
