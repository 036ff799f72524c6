using System.Diagnostics;
using System.Text;

namespace ZeroLane.Bench;

/// <summary>
/// A bench peer: this same tool relaunched with a hidden peer command (or another program that speaks the same
/// lines, such as the iceoryx peer). The parent reads its stdout lines
/// ("ready", then one JSON report), keeps its stdin open (closing it tells the peer to give up) and collects
/// its stderr for the error message. Disposing kills it if it is still running.
/// </summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _description;
    private readonly StringBuilder _errors = new();

    private PeerProcess(Process process, string description)
    {
        _process = process;
        _description = description;
    }

    /// <summary>Starts the tool with <paramref name="arguments"/> (a hidden peer command and its options).</summary>
    /// <param name="startTool">Makes the start info that runs the tool with the given arguments (see <see cref="BenchCommand.Create"/>).</param>
    /// <param name="arguments">The hidden peer command and its options.</param>
    /// <param name="description">What the peer is, for error messages.</param>
    internal static PeerProcess Start(Func<IEnumerable<string>, ProcessStartInfo> startTool, IReadOnlyList<string> arguments, string description)
    {
        ProcessStartInfo startInfo = startTool(arguments);
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start the {description}.");
        var peer = new PeerProcess(process, description);
        process.ErrorDataReceived += peer.OnErrorData;
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Waits for the peer's "ready" line (its buffer or socket exists).</summary>
    internal async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        string? line = await ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (line != "ready")
        {
            throw await FailureAsync($"said '{line}' instead of 'ready'").ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the peer's report and for it to exit cleanly.</summary>
    internal async Task<PeerReport> WaitReportAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        PeerReport.Parse(await WaitReportLineAsync(timeout, cancellationToken).ConfigureAwait(false));

    /// <summary>Waits for the peer's report, one JSON object on one line, and for it to exit cleanly; returns the line.</summary>
    internal async Task<string> WaitReportLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        string? line = await ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (line is null || !line.StartsWith('{'))
        {
            throw await FailureAsync(line is null ? "ended without a report" : $"said '{line}' instead of a report").ConfigureAwait(false);
        }
        using var exitWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        exitWait.CancelAfter(timeout);
        await _process.WaitForExitAsync(exitWait.Token).ConfigureAwait(false);
        if (_process.ExitCode != 0)
        {
            throw await FailureAsync($"exited with code {_process.ExitCode}").ConfigureAwait(false);
        }
        return line;
    }

    private async Task<string?> ReadLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var lineWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lineWait.CancelAfter(timeout);
        try
        {
            return await _process.StandardOutput.ReadLineAsync(lineWait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw await FailureAsync($"did not answer within {timeout.TotalSeconds:0} s").ConfigureAwait(false);
        }
    }

    private async Task<Exception> FailureAsync(string what)
    {
        Kill();
        try
        {
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(drain.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        string errors;
        lock (_errors)
        {
            errors = _errors.ToString().Trim();
        }
        return new InvalidOperationException(
            $"The {_description} {what}." + (errors.Length > 0 ? Environment.NewLine + errors : ""));
    }

    private void OnErrorData(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is not null)
        {
            lock (_errors)
            {
                _errors.AppendLine(e.Data);
            }
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited in the meantime.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
