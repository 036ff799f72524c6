using ZeroLane.Buffers;
using ZeroLane.Duplex;
using ZeroLane.Tests.CrossProcess;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex.Service;

/// <summary>
/// Base for duplex service tests: unique service names whose files in /dev/shm (service file, join files, client
/// rings) are removed when the test ends, pass or fail (after every peer is killed); a private lock directory for every
/// ring of the test; peers that run a service or join one.
/// </summary>
public abstract class ServiceTest : PeerTest
{
    private readonly List<string> _services = new();

    protected ServiceTest()
    {
        LockDirectory = NewLockDirectory();
    }

    protected string LockDirectory { get; }

    /// <summary>A fresh service name; everything named after it is removed after the test.</summary>
    protected string NewService(string prefix = "svc")
    {
        string name = NewName(prefix);
        _services.Add(name);
        return name;
    }

    /// <summary>Options for the rings of this test: small, quick peer checks, the test's lock directory.</summary>
    protected ReaderOptions RingOptions => new()
    {
        PayloadSize = 1 << 16,
        MetadataSize = 0,
        PeerCheckInterval = TimeSpan.FromMilliseconds(50),
        LockDirectory = LockDirectory,
    };

    protected DuplexServiceOptions ServiceOptions(int maxClients = 64) => new()
    {
        Server = new DuplexServerOptions { RequestRing = RingOptions },
        MaxClients = maxClients,
    };

    protected DuplexClientOptions ClientOptions => new() { ResponseRing = RingOptions };

    /// <summary>An echo service in this process.</summary>
    protected DuplexService StartEchoService(string name, int maxClients = 64) =>
        new(name, request => request.Span, ServiceOptions(maxClients));

    /// <summary>Starts <c>service-server NAME</c> and waits until it runs.</summary>
    internal PeerProcess StartServicePeer(string name, params string[] options)
    {
        PeerProcess service = StartPeer(["service-server", name, "--payload", (1 << 16).ToString(), "--check-ms", "50", "--lock-dir", LockDirectory, .. options]);
        string line = service.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);
        Assert.True(PeerOutput.Is(line, PeerOutput.Ready), service.Describe());
        return service;
    }

    /// <summary>Starts <c>service-client NAME</c> (plus options) without waiting for it.</summary>
    internal PeerProcess StartClientPeer(string name, params string[] options) =>
        StartPeer(["service-client", name, "--payload", (1 << 16).ToString(), "--check-ms", "50", "--lock-dir", LockDirectory, .. options]);

    /// <summary>Starts a client peer and waits until it has joined; returns it and its channel.</summary>
    internal (PeerProcess Client, string Channel) StartJoinedClientPeer(string name, params string[] options)
    {
        PeerProcess client = StartClientPeer(name, options);
        string line = client.WaitForAnyLine(PeerOutput.Connected, PeerOutput.Error);
        Assert.True(PeerOutput.Is(line, PeerOutput.Connected), client.Describe());
        string channel = line.Split(' ').Single(w => w.StartsWith("channel=", StringComparison.Ordinal))["channel=".Length..];
        return (client, channel);
    }

    /// <summary>The objects of the channel's two rings that still exist (shared memory, semaphores, lock files).</summary>
    protected string[] RingLeftovers(string channel) =>
        [.. Leftovers(channel + "_request", LockDirectory), .. Leftovers(channel + "_response", LockDirectory)];

    /// <summary>Every file in /dev/shm named after the service, and every lock file of its rings.</summary>
    protected string[] FilesOf(string service)
    {
        string[] shm = Directory.EnumerateFiles("/dev/shm")
            .Where(path => Path.GetFileName(path) is { } file &&
                (file.StartsWith($"zls.{service}.", StringComparison.Ordinal) ||
                 file.StartsWith($"sem.sem-w-zls.{service}.", StringComparison.Ordinal) ||
                 file.StartsWith($"sem.sem-r-zls.{service}.", StringComparison.Ordinal)))
            .ToArray();
        string[] locks = Directory.Exists(LockDirectory)
            ? Directory.EnumerateFiles(LockDirectory, $"zls.{service}.*").ToArray()
            : [];
        return [.. shm, .. locks];
    }

    /// <summary>Waits (hang guard only) until nothing of the channel's rings is left.</summary>
    protected void WaitUntilRingsAreGone(string channel) =>
        Assert.True(SpinWait.SpinUntil(() => RingLeftovers(channel).Length == 0, HangGuard),
            $"the rings of {channel} are still there: {string.Join(", ", RingLeftovers(channel))}");

    public override void Dispose()
    {
        base.Dispose();
        foreach (string service in _services)
        {
            foreach (string path in Directory.EnumerateFiles("/dev/shm").Where(p =>
                Path.GetFileName(p).Contains($"zls.{service}.", StringComparison.Ordinal)))
            {
                try
                {
                    File.Delete(path);
                }
                catch (IOException)
                {
                }
            }
        }
        GC.SuppressFinalize(this);
    }
}
