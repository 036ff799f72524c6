using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ZeroLane.Bench;

/// <summary>
/// The RouDi (iceoryx's central daemon) of one bench run: started in a private temporary working directory with a
/// configuration of one mempool per frame size, stopped and cleaned up on <see cref="DisposeAsync"/>, whatever
/// happened in between.
/// </summary>
/// <remarks>
/// Design: RouDi runs as the child of the peer binary's <c>roudi</c> mode (a guard), which stops it with SIGTERM
/// when its standard input closes; so a bench that dies, even by SIGKILL, closes that pipe and RouDi still stops and
/// removes its shared memory. A stop closes the pipe and waits; a RouDi that does not stop in time is killed with
/// the guard. iceoryx 2.0 has one RouDi per machine under fixed names: its shared memory (<c>/dev/shm/iceoryx_mgmt</c>
/// and one segment named after the user's group, both named in RouDi's log as it reserves them) and its socket and
/// lock files in /tmp. After RouDi stops, cleanup removes the shared memory RouDi said it reserved and the /tmp files
/// that were not there before it started (a clean stop has already removed them; a killed RouDi has not). Nothing
/// else in /dev/shm is touched: other programs' objects come and go there during a run. When another RouDi already
/// runs, ours refuses to start (its lock is taken) and reserves nothing, so nothing of the other one is removed.
/// </remarks>
internal sealed partial class IceoryxRouDi : IAsyncDisposable
{
    /// <summary>The line RouDi prints on stdout once clients can register.</summary>
    private const string ReadyLine = "RouDi is ready for clients";

    private const string SharedMemoryDirectory = "/dev/shm";

    /// <summary>iceoryx 2.0's fixed files, whatever the configuration (its /tmp prefix is compiled in, not $TMPDIR).</summary>
    private static readonly string[] s_fixedFiles = ["/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"];

    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _guard;
    private readonly HashSet<string> _fixedFilesBefore;
    private readonly List<string> _reservedSegments = new();
    private readonly StringBuilder _log = new();
    private Task? _outputDrain;
    private bool _disposed;

    private IceoryxRouDi(Process guard, HashSet<string> fixedFilesBefore)
    {
        _guard = guard;
        _fixedFilesBefore = fixedFilesBefore;
    }

    /// <summary>The shared memory objects RouDi reserved (names under /dev/shm), as its log announced them.</summary>
    internal IReadOnlyList<string> ReservedSegments
    {
        get
        {
            lock (_log)
            {
                return _reservedSegments.ToArray();
            }
        }
    }

    /// <summary>
    /// Starts RouDi and waits until it is ready for clients; returns null, having removed nothing, when another RouDi
    /// already runs on this machine (iceoryx allows one).
    /// </summary>
    /// <param name="guardPath">The built peer, whose <c>roudi</c> mode runs RouDi.</param>
    /// <param name="rouDiPath">The <c>iox-roudi</c> binary.</param>
    /// <param name="workingDirectory">A private directory for RouDi's configuration and working directory; the caller removes it.</param>
    /// <param name="mempools">Payload size and chunk count of each mempool, in increasing size.</param>
    /// <param name="cancellationToken">Stops waiting (and RouDi) early.</param>
    /// <exception cref="InvalidOperationException">RouDi failed to start; the message has its log.</exception>
    internal static async Task<IceoryxRouDi?> StartAsync(
        string guardPath, string rouDiPath, string workingDirectory, IReadOnlyList<(long Size, int Count)> mempools, CancellationToken cancellationToken)
    {
        string configuration = Path.Combine(workingDirectory, "roudi_config.toml");
        await File.WriteAllTextAsync(configuration, ConfigurationFor(mempools), cancellationToken).ConfigureAwait(false);
        var startInfo = new ProcessStartInfo(guardPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in (string[])["roudi", rouDiPath, "--config-file", configuration, "--log-level", "info"])
        {
            startInfo.ArgumentList.Add(argument);
        }
        // File.Exists is true for sockets too (any entry that is not a directory).
        HashSet<string> fixedFilesBefore = s_fixedFiles.Where(File.Exists).ToHashSet(StringComparer.Ordinal);
        Process guard = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {guardPath}.");
        var rouDi = new IceoryxRouDi(guard, fixedFilesBefore);
        try
        {
            guard.ErrorDataReceived += rouDi.OnLogLine;
            guard.BeginErrorReadLine();
            if (await rouDi.WaitReadyAsync(cancellationToken).ConfigureAwait(false))
            {
                return rouDi;
            }
            await rouDi.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        catch
        {
            await rouDi.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops RouDi (killing it if it does not stop in time) and removes what it left behind. Never throws for I/O.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            _guard.StandardInput.Close();
        }
        catch (IOException)
        {
            // The guard is gone already.
        }
        using (var stop = new CancellationTokenSource(s_stopTimeout))
        {
            try
            {
                await _guard.WaitForExitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    _guard.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It exited in the meantime.
                }
            }
        }
        // The parameterless wait also waits for the redirected streams to end, so the log is complete.
        _guard.WaitForExit();
        if (_outputDrain is not null)
        {
            await _outputDrain.ConfigureAwait(false);
        }
        _guard.Dispose();
        RemoveLeftovers();
    }

    /// <summary>True once RouDi says it is ready; false if it ended because another RouDi holds the machine's lock.</summary>
    private async Task<bool> WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ready.CancelAfter(s_readyTimeout);
        while (true)
        {
            string? line;
            try
            {
                line = await _guard.StandardOutput.ReadLineAsync(ready.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"iceoryx's RouDi was not ready within {s_readyTimeout.TotalSeconds:0} s.{LogText()}");
            }
            if (line is null)
            {
                // The guard ended: RouDi refused to start. Wait for the rest of its log before saying why.
                await _guard.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                _guard.WaitForExit();
                string log = LogText();
                if (log.Contains("Could not acquire lock", StringComparison.Ordinal) || log.Contains("ROUDI_STILL_RUNNING", StringComparison.Ordinal))
                {
                    return false;
                }
                throw new InvalidOperationException($"iceoryx's RouDi did not start (exit code {_guard.ExitCode}).{log}");
            }
            if (line.Contains(ReadyLine, StringComparison.Ordinal))
            {
                // Keep reading, so RouDi never blocks on a full pipe, whatever else it prints.
                _outputDrain = _guard.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return true;
            }
        }
    }

    private void OnLogLine(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(e.Data);
            // "Reserving 65736288 bytes in the shared memory [iceoryx_mgmt]"
            Match reserved = ReservedSegment().Match(e.Data);
            if (reserved.Success)
            {
                _reservedSegments.Add(reserved.Groups["name"].Value);
            }
        }
    }

    private string LogText()
    {
        lock (_log)
        {
            // Colours stripped: RouDi colours its log even into a pipe.
            string log = AnsiEscape().Replace(_log.ToString(), "").Trim();
            return log.Length == 0 ? "" : Environment.NewLine + log;
        }
    }

    private void RemoveLeftovers()
    {
        foreach (string segment in ReservedSegments.Where(name => !name.Contains('/', StringComparison.Ordinal)))
        {
            TryDelete(Path.Combine(SharedMemoryDirectory, segment));
        }
        foreach (string file in s_fixedFiles.Where(file => !_fixedFilesBefore.Contains(file)))
        {
            TryDelete(file);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>RouDi's TOML configuration (format version 1): one segment, for the user's group, with the given mempools.</summary>
    private static string ConfigurationFor(IReadOnlyList<(long Size, int Count)> mempools)
    {
        var text = new StringBuilder("[general]\nversion = 1\n\n[[segment]]\n");
        foreach ((long size, int count) in mempools)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n[[segment.mempool]]\nsize = {size}\ncount = {count}\n");
        }
        return text.ToString();
    }

    [GeneratedRegex(@"shared memory \[(?<name>[^\]]+)\]")]
    private static partial Regex ReservedSegment();

    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}
