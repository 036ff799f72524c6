using System.Diagnostics;
using System.Globalization;
using System.Text;
using ZeroLane.TestPeer;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// A child process running ZeroLane.TestPeer (<c>dotnet ZeroLane.TestPeer.dll ARGS</c>), whose stdout lines
/// the test waits for. Disposing kills it if it still runs.
/// </summary>
/// <remarks>
/// Design: stdout and stderr arrive on thread-pool callbacks and are appended to lists under one lock;
/// <see cref="WaitForLine"/> scans stdout from a cursor, so consecutive waits see consecutive lines, and
/// fails at once (with everything the peer printed) when stdout has closed without a match, rather than
/// sitting out its timeout. Stdin stays redirected: the peer treats its end as "the test process died" and
/// exits, so no peer outlives a crashed test run.
/// </remarks>
internal sealed class PeerProcess : IDisposable
{
    /// <summary>The hang guard for waits that have no better bound. Never a pass/fail criterion.</summary>
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly Lazy<string> s_peerAssembly = new(FindPeerAssembly);
    private static readonly Lazy<string> s_dotnet = new(FindDotnet);

    private readonly Process _process;
    private readonly object _sync = new();
    private readonly List<string> _stdout = new();
    private readonly List<string> _stderr = new();
    private readonly string _commandLine;
    private int _cursor;
    private bool _stdoutClosed;
    private bool _disposed;

    private PeerProcess(string[] arguments, bool underNonReapingParent, IReadOnlyDictionary<string, string>? environment = null, string[]? launcher = null)
    {
        _commandLine = (underNonReapingParent ? "sh -c '... & exec sleep' " : "") + (launcher is null ? "" : string.Join(' ', launcher) + " ") +
            "ZeroLane.TestPeer " + string.Join(' ', arguments);
        var startInfo = new ProcessStartInfo(underNonReapingParent ? "/bin/sh" : launcher?[0] ?? s_dotnet.Value)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (underNonReapingParent)
        {
            // The shell starts the peer in the background, then becomes `sleep`, which never calls wait():
            // a killed peer stays a zombie until the sleep ends. The peer reads the shell's stdin explicitly
            // (a background job would otherwise get /dev/null and take it for the test process's death).
            startInfo.ArgumentList.Add("-c");
            startInfo.ArgumentList.Add("exec 3<&0; \"$0\" \"$@\" <&3 & exec sleep 600");
            startInfo.ArgumentList.Add(s_dotnet.Value);
        }
        else if (launcher is not null)
        {
            // The launcher ends by exec'ing "$0" "$@": dotnet, the peer and its arguments.
            foreach (string word in launcher[1..])
            {
                startInfo.ArgumentList.Add(word);
            }
            startInfo.ArgumentList.Add(s_dotnet.Value);
        }
        startInfo.ArgumentList.Add(s_peerAssembly.Value);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // Cheap start-up: no dynamic PGO instrumentation in a process that lives for moments.
        startInfo.Environment["DOTNET_TieredPGO"] = "0";
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }
        _process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(_stdout, e.Data, isStdout: true);
        _process.ErrorDataReceived += (_, e) => OnLine(_stderr, e.Data, isStdout: false);
        _process.Start();
        Id = _process.Id;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <c>dotnet ZeroLane.TestPeer.dll</c> with <paramref name="arguments"/>.</summary>
    internal static PeerProcess Start(params string[] arguments) => new(arguments, underNonReapingParent: false);

    /// <summary>Starts <c>dotnet ZeroLane.TestPeer.dll</c> with <paramref name="arguments"/> and extra environment variables.</summary>
    internal static PeerProcess StartWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        new(arguments, underNonReapingParent: false, environment);

    /// <summary>
    /// Starts the peer in a private mount namespace whose /dev/shm is a fresh tmpfs of <paramref name="devShmSize"/>
    /// (e.g. "1m"): shm_open and sem_open there are real, and nothing is shared with other tests. Needs root
    /// (<see cref="Prerequisites.Root"/>).
    /// </summary>
    internal static PeerProcess StartWithPrivateDevShm(string devShmSize, params string[] arguments)
    {
        Prerequisites.Root.Require();
        return new(arguments, underNonReapingParent: false, launcher:
        [
            "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
            $"mount -t tmpfs -o size={devShmSize},mode=1777 tmpfs /dev/shm && exec \"$0\" \"$@\"",
        ]);
    }

    /// <summary>
    /// Starts the peer in the mount namespace of process <paramref name="pid"/> (<c>nsenter --mount</c>), for example
    /// next to a peer started with <see cref="StartWithPrivateDevShm"/>, so that both see the same private /dev/shm.
    /// Needs root (<see cref="Prerequisites.Root"/>).
    /// </summary>
    internal static PeerProcess StartInMountNamespaceOf(int pid, params string[] arguments)
    {
        Prerequisites.Root.Require();
        return new(arguments, underNonReapingParent: false, launcher:
            ["nsenter", "--target", pid.ToString(CultureInfo.InvariantCulture), "--mount", "--"]);
    }

    /// <summary>Everything the child printed on stderr so far.</summary>
    internal string ErrorOutput
    {
        get
        {
            lock (_sync)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    /// <summary>
    /// Starts the peer as the child of a process that never reaps it (<c>sh -c 'peer &amp; exec sleep 600'</c>),
    /// so that once killed it stays a zombie. <see cref="Id"/> is the parent's PID; the peer's own PID is in
    /// its READY or CONNECTED line. Disposing kills both.
    /// </summary>
    internal static PeerProcess StartUnderNonReapingParent(params string[] arguments) => new(arguments, underNonReapingParent: true);

    /// <summary>The child's process ID.</summary>
    internal int Id { get; }

    /// <summary>True once the child has exited (and been reaped).</summary>
    internal bool HasExited => _process.HasExited;

    /// <summary>The child's exit code; only after it exited. SIGKILL reads as 137.</summary>
    internal int ExitCode => _process.ExitCode;

    /// <summary>Every stdout line so far.</summary>
    internal IReadOnlyList<string> Output
    {
        get
        {
            lock (_sync)
            {
                return _stdout.ToArray();
            }
        }
    }

    /// <summary>
    /// Waits for the next stdout line (after those earlier waits returned) that matches
    /// <paramref name="predicate"/>, and returns it. Throws <see cref="TimeoutException"/> if none arrives
    /// within <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>) or stdout closes first.
    /// </summary>
    internal string WaitForLine(Func<string, bool> predicate, TimeSpan? timeout = null)
    {
        long deadline = Environment.TickCount64 + (long)(timeout ?? DefaultTimeout).TotalMilliseconds;
        lock (_sync)
        {
            while (true)
            {
                for (; _cursor < _stdout.Count; _cursor++)
                {
                    if (predicate(_stdout[_cursor]))
                    {
                        return _stdout[_cursor++];
                    }
                }
                if (_stdoutClosed)
                {
                    throw new TimeoutException($"The peer's stdout closed without the expected line. {DescribeUnsynchronized()}");
                }
                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    throw new TimeoutException($"The expected line did not arrive within {timeout ?? DefaultTimeout}. {DescribeUnsynchronized()}");
                }
                Monitor.Wait(_sync, TimeSpan.FromMilliseconds(remaining));
            }
        }
    }

    /// <summary>Waits for the next line that is <paramref name="word"/> or starts with it and a space (see <see cref="PeerOutput"/>).</summary>
    internal string WaitForLine(string word, TimeSpan? timeout = null) => WaitForLine(line => PeerOutput.Is(line, word), timeout);

    /// <summary>
    /// Waits for the next line that starts with one of <paramref name="words"/>, e.g. READY or ERROR, and
    /// returns it, so a test can tell the outcomes apart without waiting out a timeout.
    /// </summary>
    internal string WaitForAnyLine(params string[] words) => WaitForLine(line => words.Any(word => PeerOutput.Is(line, word)));

    /// <summary>Writes a line to the child's stdin (e.g. <see cref="PeerOutput.ExitCommand"/>).</summary>
    internal void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Kills the child and everything it started with SIGKILL, and waits until it has been reaped.</summary>
    internal void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has already exited.
        }
        if (!_process.WaitForExit(DefaultTimeout))
        {
            throw new TimeoutException($"The peer did not exit after SIGKILL. {Describe()}");
        }
    }

    /// <summary>Waits for the child to exit (and its output to be drained); false if it still runs after <paramref name="timeout"/>.</summary>
    internal bool WaitForExit(TimeSpan? timeout = null)
    {
        if (!_process.WaitForExit(timeout ?? DefaultTimeout))
        {
            return false;
        }
        // The parameterless overload also waits for the redirected streams to reach their end.
        _process.WaitForExit();
        return true;
    }

    /// <summary>User plus system CPU time the child has used, in clock ticks (fields 14 and 15 of /proc/PID/stat).</summary>
    internal long CpuTicks()
    {
        string[] fields = StatFields(Id)!;
        // fields[0] is field 3 (state), so field 14 (utime) is fields[11] and field 15 (stime) fields[12].
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>The state letter of a process (field 3 of /proc/PID/stat: R, S, Z...), or null if there is no such process.</summary>
    internal static char? StateOf(int pid) => StatFields(pid)?[0][0];

    /// <summary>The PID a peer printed in a line such as <c>CONNECTED pid=1234</c>.</summary>
    internal static int PidIn(string line) =>
        int.Parse(line[(line.IndexOf("pid=", StringComparison.Ordinal) + 4)..].Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>Fields 3 onwards of /proc/PID/stat, or null if the process does not exist.</summary>
    private static string[]? StatFields(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        // Field 2, the command name, is in parentheses and may contain spaces: count fields after the last ')'.
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    /// <summary>The command line, PID, exit status and everything the child printed, for assertion messages.</summary>
    internal string Describe()
    {
        lock (_sync)
        {
            return DescribeUnsynchronized();
        }
    }

    private string DescribeUnsynchronized()
    {
        string status = _process.HasExited ? $"exited with {_process.ExitCode}" : "still running";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Peer '{_commandLine}' (pid {Id}) {status}.");
        text.Append(CultureInfo.InvariantCulture, $"\n  stdout ({_stdout.Count} lines):");
        foreach (string line in _stdout.TakeLast(40))
        {
            text.Append("\n    ").Append(line);
        }
        text.Append(CultureInfo.InvariantCulture, $"\n  stderr ({_stderr.Count} lines):");
        foreach (string line in _stderr.TakeLast(40))
        {
            text.Append("\n    ").Append(line);
        }
        return text.ToString();
    }

    private void OnLine(List<string> lines, string? line, bool isStdout)
    {
        lock (_sync)
        {
            if (line is not null)
            {
                lines.Add(line);
            }
            else if (isStdout)
            {
                _stdoutClosed = true;
            }
            Monitor.PulseAll(_sync);
        }
    }

    /// <summary>Kills the child if it still runs. Never throws, so it is safe in a failing test's cleanup.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.WaitForExit(DefaultTimeout);
        }
        catch (InvalidOperationException)
        {
        }
        catch (SystemException)
        {
        }
        _process.Dispose();
    }

    /// <summary>
    /// ZeroLane.TestPeer.dll: next to the test assembly (the project reference copies it there); failing that,
    /// in the peer project's own output folder for the same configuration and framework.
    /// </summary>
    private static string FindPeerAssembly()
    {
        const string fileName = "ZeroLane.TestPeer.dll";
        string beside = Path.Combine(AppContext.BaseDirectory, fileName);
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }
        // AppContext.BaseDirectory is .../tests/ZeroLane.Tests/bin/CONFIG/TFM/: mirror CONFIG/TFM under the peer project.
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = baseDirectory.Name;
        string? configuration = baseDirectory.Parent?.Name;
        for (DirectoryInfo? directory = baseDirectory; directory is not null; directory = directory.Parent)
        {
            string project = Path.Combine(directory.FullName, "tests", "ZeroLane.TestPeer");
            if (!Directory.Exists(project))
            {
                continue;
            }
            string candidate = Path.Combine(project, "bin", configuration ?? "Debug", framework, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
            string? any = Directory.EnumerateFiles(Path.Combine(project, "bin"), fileName, SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
            if (any is not null)
            {
                return any;
            }
        }
        throw new FileNotFoundException(
            $"{fileName} is neither next to the test assembly ({AppContext.BaseDirectory}) nor in tests/ZeroLane.TestPeer/bin. " +
            "Build tests/ZeroLane.TestPeer (the test project references it, so building the tests builds it).", fileName);
    }

    /// <summary>The dotnet host: the one running this process if it is dotnet, else DOTNET_HOST_PATH, DOTNET_ROOT, or PATH.</summary>
    private static string FindDotnet()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
        {
            return Path.Combine(root, "dotnet");
        }
        return "dotnet";
    }
}
