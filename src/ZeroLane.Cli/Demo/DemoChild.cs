using System.Diagnostics;
using System.Threading.Channels;

namespace ZeroLane.Cli.Demo;

/// <summary>
/// One child process of the demo (reader or writer): its standard output as a channel of lines, its standard
/// error forwarded to a callback, and a way to stop it for sure.
/// </summary>
internal sealed class DemoChild : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _pumps;

    private DemoChild(string role, Process process, Action<string> onErrorLine)
    {
        Role = role;
        _process = process;
        Task output = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                _lines.Writer.TryWrite(line);
            }
            _lines.Writer.TryComplete();
        });
        Task error = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                onErrorLine(line);
            }
        });
        _pumps = Task.WhenAll(output, error);
        Exited = WaitForExitAsync();
    }

    /// <summary>"reader" or "writer".</summary>
    internal string Role { get; }

    /// <summary>The child's standard output, line by line; completes when the child closes it.</summary>
    internal ChannelReader<string> Lines => _lines.Reader;

    /// <summary>Completes with the exit code once the child has exited and its output is drained.</summary>
    internal Task<int> Exited { get; }

    /// <summary>Starts <c>zerolane ARGS</c> as a child process.</summary>
    internal static DemoChild Start(string role, IEnumerable<string> arguments, Action<string> onErrorLine)
    {
        var process = new Process { StartInfo = SelfProcess.CreateStartInfo(arguments) };
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }
        return new DemoChild(role, process, onErrorLine);
    }

    /// <summary>
    /// Asks the child to stop by closing its standard input, waits up to <paramref name="grace"/>, then kills
    /// it; returns once it has exited.
    /// </summary>
    internal async Task StopAsync(TimeSpan grace)
    {
        if (Exited.IsCompleted)
        {
            return;
        }
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It is exiting already.
        }
        if (await Task.WhenAny(Exited, Task.Delay(grace)).ConfigureAwait(false) != Exited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited in the meantime.
            }
            await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the child as <see cref="StopAsync"/> does and returns its exit code; -1 if it did not exit.</summary>
    internal async Task<int> StopForExitCodeAsync(TimeSpan grace)
    {
        await StopAsync(grace).ConfigureAwait(false);
        return Exited.IsCompletedSuccessfully ? Exited.Result : -1;
    }

    private async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        await _pumps.ConfigureAwait(false);
        return _process.ExitCode;
    }

    public void Dispose() => _process.Dispose();
}
