using ZeroLane.Bench;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// A real nats-server (Debian's) on a loopback port this test chose, killed and its directory removed on dispose, even
/// when the test failed. Never binds anything but 127.0.0.1. The process itself is the bench's
/// <see cref="BenchNatsServer"/>; this adds the tests' clusters.
/// </summary>
internal sealed class NatsServerProcess : IDisposable
{
    private readonly BenchNatsServer _server;

    private NatsServerProcess(BenchNatsServer server)
    {
        _server = server;
    }

    /// <summary>The client port, on 127.0.0.1.</summary>
    internal int Port => _server.Port;

    /// <summary>The URL a client connects to.</summary>
    internal string Url => _server.Url;

    /// <summary>
    /// Starts <paramref name="count"/> servers routed into one cluster on loopback ports, each listing every other's route,
    /// and waits until each accepts clients. Dispose every one (or use <see cref="DisposeAll"/>).
    /// </summary>
    internal static NatsServerProcess[] StartCluster(int count)
    {
        int[] routePorts = [.. Enumerable.Range(0, count).Select(_ => BenchNatsServer.FreeLoopbackPort())];
        var servers = new List<NatsServerProcess>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                string routes = string.Join(", ", routePorts.Where((_, j) => j != i).Select(port => $"\"nats-route://127.0.0.1:{port}\""));
                servers.Add(Start($"server_name: zltest-{i}\ncluster {{\n  name: zltest\n  listen: 127.0.0.1:{routePorts[i]}\n  routes: [{routes}]\n}}\n"));
            }
            return [.. servers];
        }
        catch
        {
            DisposeAll(servers);
            throw;
        }
    }

    /// <summary>Disposes every server, even when one fails to.</summary>
    internal static void DisposeAll(IEnumerable<NatsServerProcess> servers)
    {
        List<Exception> failures = [];
        foreach (NatsServerProcess server in servers)
        {
            try
            {
                server.Dispose();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }
        if (failures.Count > 0)
        {
            throw new AggregateException(failures);
        }
    }

    /// <summary>Kills the server at once (SIGKILL), as a crashed node; Dispose still removes its directory.</summary>
    internal void Kill() => _server.Kill();

    /// <summary>Freezes the server (SIGSTOP) or lets it go on (SIGCONT), as a network that stopped moving.</summary>
    internal void Freeze(bool frozen) => _server.Freeze(frozen);

    /// <summary>Starts a server with <paramref name="extraConfig"/> appended to its configuration, and waits until it accepts connections.</summary>
    internal static NatsServerProcess Start(string extraConfig = "")
    {
        Prerequisites.NatsServer.Require();
        return new NatsServerProcess(BenchNatsServer.Start("zltest-", extraConfig));
    }

    /// <summary>
    /// Starts a server on 127.0.0.1:<paramref name="port"/> (one a killed server had, to restart it), with
    /// <paramref name="extraConfig"/> appended, and waits until it accepts connections.
    /// </summary>
    internal static NatsServerProcess StartOnPort(int port, string extraConfig = "")
    {
        Prerequisites.NatsServer.Require();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        return new NatsServerProcess(BenchNatsServer.Start("zltest-", extraConfig, port));
    }

    public void Dispose() => _server.Dispose();
}
