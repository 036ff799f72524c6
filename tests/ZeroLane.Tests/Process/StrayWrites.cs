using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// Base for tests that damage a live buffer from outside: a child process (TestPeer <c>poke</c>) writes one u64 into
/// the segment through /dev/shm, then exits; the test waits for that before it looks at what the ring does.
/// </summary>
public abstract class StrayWrites : PeerTest
{
    /// <summary>Has another process store <paramref name="value"/> at <paramref name="offset"/> of buffer <paramref name="name"/>'s segment.</summary>
    protected void Poke(string name, int offset, ulong value)
    {
        PeerProcess poke = StartPeer("poke", name, "--offset", offset.ToString(), "--value", value.ToString());
        string line = poke.WaitForAnyLine(PeerOutput.Poked, PeerOutput.Error);
        Assert.True(PeerOutput.Is(line, PeerOutput.Poked), poke.Describe());
        Assert.True(poke.WaitForExit(HangGuard), poke.Describe());
        Assert.Equal(ExitCodes.Success, poke.ExitCode);
    }
}
