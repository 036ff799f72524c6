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
