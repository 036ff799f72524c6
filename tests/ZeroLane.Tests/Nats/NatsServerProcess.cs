using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// A real nats-server (Debian's) on a loopback port this test chose, killed and its directory removed on dispose, even
/// when the test failed. Never binds anything but 127.0.0.1.
/// </summary>
internal sealed class NatsServerProcess : IDisposable
{
    private static readonly TimeSpan s_readyGuard = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _directory;

    private NatsServerProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The client port, on 127.0.0.1.</summary>
    internal int Port { get; }

    /// <summary>The URL a client connects to.</summary>
    internal string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>
    /// Starts <paramref name="count"/> servers routed into one cluster on loopback ports, each listing every other's route,
    /// and waits until each accepts clients. Dispose every one (or use <see cref="DisposeAll"/>).
    /// </summary>
    internal static NatsServerProcess[] StartCluster(int count)
    {
        int[] routePorts = [.. Enumerable.Range(0, count).Select(_ => FreeLoopbackPort())];
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
    /// <summary>
    /// Freezes the server (SIGSTOP) or lets it go on (SIGCONT): a frozen server reads nothing, so its clients' socket
    /// buffers fill as over a network that stopped moving. <see cref="Dispose"/> kills a frozen server all the same.
    /// </summary>
    internal void Freeze(bool frozen)
    {
        if (!_process.HasExited)
        {
            using Process signal = Process.Start("kill", ["-s", frozen ? "STOP" : "CONT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            signal.WaitForExit();
        }
    }

    internal void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>Starts a server with <paramref name="extraConfig"/> appended to its configuration, and waits until it accepts connections.</summary>
    internal static NatsServerProcess Start(string extraConfig = "")
    {
        Prerequisites.NatsServer.Require();
        string directory = Directory.CreateTempSubdirectory("zltest-nats-").FullName;
        int port = FreeLoopbackPort();
        string config = Path.Combine(directory, "server.conf");
        File.WriteAllText(config, $"listen: 127.0.0.1:{port}\n" + extraConfig);
        var startInfo = new ProcessStartInfo(Prerequisites.NatsServerPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(config);
        Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("nats-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new NatsServerProcess(process, directory, port);
        try
        {
            server.WaitUntilAccepting();
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    private void WaitUntilAccepting()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < s_readyGuard && !_process.HasExited)
            {
                Thread.Sleep(20);
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
