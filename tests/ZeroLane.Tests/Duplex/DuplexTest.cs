using ZeroLane.Buffers;
using ZeroLane.Duplex;
using ZeroLane.Tests.CrossProcess;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex;

/// <summary>
/// Base for duplex channel tests: unique channel names whose two rings are removed when the test ends, pass or fail
/// (after every peer is killed), and the small rings and helpers the tests share.
/// </summary>
public abstract class DuplexTest : PeerTest
{
    /// <summary>The payload size of every ring in these tests.</summary>
    protected const int RingSize = 1 << 20;

    private readonly List<string> _channels = new();

    /// <summary>
    /// A private lock directory for every ring of the test (peers included), so that no other test's reader, cleaning up
    /// stale buffers in the shared directory, touches this test's lock files while it checks them.
    /// </summary>
    protected DuplexTest()
    {
        LockDirectory = NewLockDirectory();
    }

    protected string LockDirectory { get; }

    /// <summary>A fresh channel name; NAME_request and NAME_response are cleaned up after the test.</summary>
    protected string NewChannel(string prefix = "dx")
    {
        string name = NewName(prefix);
        _channels.Add(name);
        return name;
    }

    protected static string RequestRing(string channel) => channel + "_request";

    protected static string ResponseRing(string channel) => channel + "_response";

    /// <summary>Options for a ring this test creates: small, quick peer checks, the test's lock directory.</summary>
    protected ReaderOptions RingOptions => new()
    {
        PayloadSize = RingSize,
        MetadataSize = 0,
        PeerCheckInterval = TimeSpan.FromMilliseconds(50),
        LockDirectory = LockDirectory,
    };

    protected DuplexClientOptions ClientOptions => new() { ResponseRing = RingOptions };

    protected DuplexServerOptions ServerOptions => new() { RequestRing = RingOptions };

    /// <summary>Starts <c>duplex-client NAME</c> (plus options) with the test's lock directory.</summary>
    internal PeerProcess StartClient(string channel, params string[] options) =>
        StartPeer(["duplex-client", channel, "--lock-dir", LockDirectory, "--check-ms", "50", .. options]);

    /// <summary>Starts <c>duplex-server NAME</c> (plus options) and waits until it has created NAME_request.</summary>
    internal PeerProcess StartServer(string channel, params string[] options)
    {
        PeerProcess server = StartPeer(["duplex-server", channel, "--payload", RingSize.ToString(), "--check-ms", "50", "--lock-dir", LockDirectory, .. options]);
        string line = server.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);
        Assert.True(PeerOutput.Is(line, PeerOutput.Ready), server.Describe());
        return server;
    }

    /// <summary>Stops a server peer gracefully and returns its SERVED line.</summary>
    internal static string StopServer(PeerProcess server)
    {
        server.Send(PeerOutput.ExitCommand);
        string served = server.WaitForLine(PeerOutput.Served);
        server.WaitForLine(PeerOutput.Bye);
        Assert.True(server.WaitForExit(HangGuard), server.Describe());
        return served;
    }

    /// <summary>Asserts that neither ring of <paramref name="channel"/> left anything in /dev/shm or the lock directory.</summary>
    protected void AssertNoLeftovers(string channel)
    {
        Assert.Empty(Leftovers(RequestRing(channel), LockDirectory));
        Assert.Empty(Leftovers(ResponseRing(channel), LockDirectory));
    }

    /// <summary>A patterned request of <paramref name="length"/> bytes for sequence <paramref name="sequence"/>.</summary>
    protected static byte[] Patterned(ulong sequence, int length)
    {
        byte[] bytes = new byte[length];
        FramePattern.Fill(bytes, sequence);
        return bytes;
    }

    public override void Dispose()
    {
        base.Dispose();
        foreach (string channel in _channels)
        {
            TestBuffers.Remove(RequestRing(channel));
            TestBuffers.Remove(ResponseRing(channel));
        }
        GC.SuppressFinalize(this);
    }
}
