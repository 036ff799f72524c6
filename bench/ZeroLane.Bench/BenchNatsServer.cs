using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ZeroLane.Bench;

/// <summary>
/// The gateway part's own nats-server (Debian's, <see cref="Path"/>): on a free port of 127.0.0.1 only, with its
/// configuration file in a private temporary directory; killed and the directory removed on dispose, whatever happened.
/// </summary>
internal sealed class BenchNatsServer : IDisposable
{
    /// <summary>Where Debian's package puts the server.</summary>
    internal const string Path = "/usr/sbin/nats-server";

    /// <summary>
    /// Largest message the server takes: above the bench's largest sample (1080p RGB24, 6,220,800 B) with ZeroLane's headers,
    /// so plain NATS.Net can publish it whole and the gateway sends it unchunked too (the default, 1 MiB, would make plain
    /// NATS.Net refuse it and the gateway split even a 1 MiB sample in two). Samples above it are chunked by the gateway.
    /// </summary>
    internal const int MaxPayload = 8 << 20;

    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _directory;

    private BenchNatsServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The client port, on 127.0.0.1.</summary>
    internal int Port { get; }

    /// <summary>The URL a client connects to.</summary>
    internal string Url => string.Create(CultureInfo.InvariantCulture, $"nats://127.0.0.1:{Port}");

    /// <summary>The process ID, so a test can check it is gone after the run.</summary>
    internal int ProcessId => _process.Id;

    /// <summary>Why the part cannot run here (null when it can).</summary>
    internal static string? Missing() => File.Exists(Path) ? null : $"{Path} does not exist (Debian: apt-get install nats-server)";

    /// <summary>Starts a server and waits until it accepts connections.</summary>
    /// <exception cref="InvalidOperationException">It did not start, or exited, or accepted nothing within 30 s.</exception>
    internal static BenchNatsServer Start(string namePrefix) =>
        Start(namePrefix, string.Create(CultureInfo.InvariantCulture, $"max_payload: {MaxPayload}\nserver_name: {namePrefix}nats\n"));

    /// <summary>
    /// Starts a server on a free port of 127.0.0.1 with <paramref name="extraConfig"/> after its <c>listen</c> line, and
    /// waits until it accepts connections (the tests' servers are these too).
    /// </summary>
    /// <param name="port">The client port on 127.0.0.1; 0 (the default) for a free one. A test that restarts a server on the
    /// port it had gives it here.</param>
    /// <exception cref="InvalidOperationException">It did not start, or exited, or accepted nothing within 30 s.</exception>
    internal static BenchNatsServer Start(string namePrefix, string extraConfig, int port = 0)
    {
        // Made owner-only (0700) by CreateTempSubdirectory, so the configuration in it is the caller's alone.
        string directory = Directory.CreateTempSubdirectory(namePrefix + "nats-").FullName;
        port = port == 0 ? FreeLoopbackPort() : port;
        string config = System.IO.Path.Combine(directory, "server.conf");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"listen: 127.0.0.1:{port}\n") + extraConfig);
        var startInfo = new ProcessStartInfo(Path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(config);
        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{Path} did not start.");
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
        // Read and dropped, so a chatty server never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new BenchNatsServer(process, directory, port);
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

    /// <summary>Kills the server at once (SIGKILL), as a crashed node; <see cref="Dispose"/> still removes its directory.</summary>
    internal void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>
    /// Freezes the server (SIGSTOP) or lets it go on (SIGCONT): a frozen server reads nothing, so its clients' socket
    /// buffers fill as over a network that stopped moving. <see cref="Dispose"/> kills a frozen server all the same.
    /// </summary>
    internal void Freeze(bool frozen)
    {
        if (!_process.HasExited)
        {
            using Process signal = Process.Start("kill", ["-s", frozen ? "STOP" : "CONT", _process.Id.ToString(CultureInfo.InvariantCulture)])!;
            signal.WaitForExit();
        }
    }

    private void WaitUntilAccepting()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Path} exited with code {_process.ExitCode} before accepting connections.");
            }
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < s_readyTimeout)
            {
                Thread.Sleep(20);
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"{Path} accepted no connection on 127.0.0.1:{Port} within {s_readyTimeout.TotalSeconds:0} s: {e.Message}");
            }
        }
    }

    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
