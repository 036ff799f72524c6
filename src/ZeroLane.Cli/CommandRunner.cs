using System.CommandLine;
using System.Runtime.InteropServices;

namespace ZeroLane.Cli;

/// <summary>
/// Runs the parsed command line: turns Ctrl+C and SIGTERM into cancellation, and expected failures into a
/// one-line message and exit code 1.
/// </summary>
/// <remarks>
/// Design: we register the signal handlers ourselves, before the command starts, instead of using
/// System.CommandLine's process-termination handling: that one is installed only once the action has
/// returned its task, so a command that blocks before its first await could not be interrupted, and it
/// gives up on the action after a fixed timeout, which would cut short the demo's cleanup of its children.
/// The first signal cancels the token every command receives; a second Ctrl+C terminates at once.
/// </remarks>
internal static class CommandRunner
{
    /// <summary>Exit code of a command stopped by Ctrl+C or SIGTERM (128 + SIGINT, as shells report it).</summary>
    internal const int InterruptedExitCode = 130;

    internal static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        using var interrupt = new CancellationTokenSource();
        using var sigInt = PosixSignalRegistration.Create(
            PosixSignal.SIGINT, context => OnSignal(context, interrupt));
        using var sigTerm = PosixSignalRegistration.Create(
            PosixSignal.SIGTERM, context => OnSignal(context, interrupt));
        var configuration = new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        try
        {
            // No response files: 'write --metadata @FILE' means the file's bytes, not more arguments.
            ParseResult parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            return await parseResult.InvokeAsync(configuration, interrupt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            Console.Error.WriteLine("zerolane: interrupted");
            return InterruptedExitCode;
        }
        catch (Exception exception) when (CliErrors.IsExpected(exception))
        {
            Console.Error.WriteLine("zerolane: " + CliErrors.Describe(exception));
            return CliErrors.ExitCode;
        }
    }

    private static void OnSignal(PosixSignalContext context, CancellationTokenSource interrupt)
    {
        if (interrupt.IsCancellationRequested)
        {
            // Second signal: the user means it; let the default action terminate the process.
            return;
        }
        context.Cancel = true;
        interrupt.Cancel();
    }
}
