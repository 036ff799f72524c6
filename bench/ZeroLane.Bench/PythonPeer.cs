using System.Diagnostics;
using System.Text;

namespace ZeroLane.Bench;

/// <summary>
/// The python part's peer: <c>python/python_peer.py</c> (embedded in this assembly) run by <see cref="Interpreter"/>
/// against ZeroLane's Python client, the package <c>python/zerolane</c> of the repository the tool was built in, or else
/// the one installed for that interpreter (<c>pip install ./python</c>).
/// </summary>
/// <remarks>
/// Design: <see cref="TryFind"/> looks for the package and imports it once, so a missing or incomplete client is a note
/// ("python: skipped (...)") and not a failed run; the script is written into the run's own scratch directory (created
/// private by <see cref="Directory.CreateTempSubdirectory"/>) and removed with it, never into a shared, predictable path.
/// </remarks>
internal sealed class PythonPeer
{
    /// <summary>Debian's system Python, which has the Python client's dependencies (the python3 first on PATH may not).</summary>
    internal const string Interpreter = "/usr/bin/python3";

    /// <summary>What the peer's command line starts with (it ignores it; the ring peers' options follow).</summary>
    internal const string CommandName = "bench-peer-python";

    /// <summary>The command name that makes the peer use topics instead of rings (part python-topic).</summary>
    internal const string TopicCommandName = "bench-peer-python-topic";

    private const string ResourceName = "ZeroLane.Bench.python_peer.py";
    private const string ScriptName = "python_peer.py";

    /// <summary>What the peer imports: the client's ring API, as python_peer.py uses it.</summary>
    private const string ImportCheck = "import zerolane; zerolane.Reader; zerolane.Writer; zerolane.WaitStrategy.BUSY_SPIN";

    /// <summary>What the topic peer imports beyond <see cref="ImportCheck"/>.</summary>
    internal const string TopicImportCheck = "import zerolane; zerolane.Publisher; zerolane.Subscriber";

    private PythonPeer(string? packageRoot, string script)
    {
        PackageRoot = packageRoot;
        Script = script;
    }

    /// <summary>The directory that holds the package <c>zerolane</c> (null: it is installed for <see cref="Interpreter"/>).</summary>
    internal string? PackageRoot { get; }

    /// <summary>The peer script, in the run's scratch directory.</summary>
    internal string Script { get; }

    /// <summary>Where the client was found, for the notes.</summary>
    internal string Description => PackageRoot is null ? $"the zerolane package installed for {Interpreter}" : $"{Path.Combine(PackageRoot, "zerolane")} run by {Interpreter}";

    /// <summary>
    /// Finds the interpreter and the Python client and writes the peer script into <paramref name="scratchDirectory"/>; when
    /// something is missing, <paramref name="missingNote"/> says what and how to get it.
    /// </summary>
    internal static bool TryFind(string scratchDirectory, out PythonPeer? peer, out string? missingNote) =>
        TryFind(scratchDirectory, "python", ImportCheck, out peer, out missingNote);

    /// <summary>As <see cref="TryFind(string, out PythonPeer?, out string?)"/> for the part python-topic, which also needs the client's topics.</summary>
    internal static bool TryFindWithTopics(string scratchDirectory, out PythonPeer? peer, out string? missingNote) =>
        TryFind(scratchDirectory, "python-topic", ImportCheck + "; " + TopicImportCheck, out peer, out missingNote);

    private static bool TryFind(string scratchDirectory, string part, string importCheck, out PythonPeer? peer, out string? missingNote)
    {
        peer = null;
        if (!File.Exists(Interpreter))
        {
            missingNote = $"{part}: skipped ({Interpreter} does not exist: apt-get install python3)";
            return false;
        }
        string? packageRoot = FindPackageRoot();
        (int exitCode, string error) = RunQuietly(packageRoot, "-c", importCheck);
        if (exitCode != 0)
        {
            string where = packageRoot is null
                ? $"no python/zerolane above {AppContext.BaseDirectory}, and none installed for {Interpreter} (pip install ./python)"
                : Path.Combine(packageRoot, "zerolane");
            missingNote = $"{part}: skipped (the Python client does not import from {where}: {error.Trim().Split('\n').Last()})";
            return false;
        }
        string script = Path.Combine(scratchDirectory, ScriptName);
        // Both parts may run: the second writes the same text again.
        File.WriteAllText(script, ReadScript(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        peer = new PythonPeer(packageRoot, script);
        missingNote = null;
        return true;
    }

    /// <summary>The start info of one peer with the given ring peer options (<see cref="PeerOptions.ToArguments"/>).</summary>
    internal ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var startInfo = new ProcessStartInfo(Interpreter)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Script);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        SetEnvironment(startInfo, PackageRoot);
        return startInfo;
    }

    /// <summary>The directory <c>python</c> with <c>zerolane/__init__.py</c> in the nearest directory above the tool, if any.</summary>
    private static string? FindPackageRoot()
    {
        for (string? directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory))
        {
            string candidate = Path.Combine(directory, "python");
            if (File.Exists(Path.Combine(candidate, "zerolane", "__init__.py")))
            {
                return candidate;
            }
        }
        return null;
    }

    private static void SetEnvironment(ProcessStartInfo startInfo, string? packageRoot)
    {
        if (packageRoot is not null)
        {
            string? existing = Environment.GetEnvironmentVariable("PYTHONPATH");
            startInfo.Environment["PYTHONPATH"] = string.IsNullOrEmpty(existing) ? packageRoot : packageRoot + Path.PathSeparator + existing;
        }
        // No __pycache__ left in the package's directory by a bench run.
        startInfo.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
    }

    private static string ReadScript()
    {
        using Stream stream = typeof(PythonPeer).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The bench assembly lacks its embedded {ResourceName}; rebuild it.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Runs a short check; a hang guard only (an import finishes at once or not at all).</summary>
    private static (int ExitCode, string Error) RunQuietly(string? packageRoot, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(Interpreter)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        SetEnvironment(startInfo, packageRoot);
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {Interpreter}.");
        process.StandardInput.Close();
        Task<string> error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"{Interpreter} did not finish importing the client within 30 s");
        }
        return (process.ExitCode, error.Result);
    }
}
