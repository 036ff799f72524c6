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
    private const int SigInt = 2;
    private const int SigTerm = 15;

    // The signal that stopped the command (0 while none has).
    private static int s_signal;

    /// <summary>Exit code of a command stopped by a signal, as shells report it: 128 + 2 (Ctrl+C, SIGINT) or 128 + 15 (SIGTERM).</summary>
    internal static int InterruptedExitCode => 128 + (Volatile.Read(ref s_signal) == SigTerm ? SigTerm : SigInt);

    /// <summary>Parses and runs a command line; returns the exit code (what Program.cs returns, and what tests run in their own process).</summary>
    /// <param name="root">The command tree (<see cref="ToolCommands.CreateRoot"/>).</param>
    /// <param name="args">The command line after the program name.</param>
    /// <param name="stop">Stops the command as Ctrl+C would (tests use it to bound a run in their own process).</param>
    internal static async Task<int> RunAsync(RootCommand root, string[] args, CancellationToken stop = default)
    {
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(stop);
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
            if (parseResult.Errors.Count > 0)
            {
                // One line, like every other expected error (not the help page): what is wrong, and where to look.
                Console.Error.WriteLine("zerolane: " + ParseErrorText.Describe(parseResult));
                return CliErrors.ExitCode;
            }
            if (ParseErrorText.DescribeBadPath(parseResult) is { } badPath)
            {
                Console.Error.WriteLine("zerolane: " + badPath);
                return CliErrors.ExitCode;
            }
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
        Volatile.Write(ref s_signal, context.Signal == PosixSignal.SIGTERM ? SigTerm : SigInt);
        interrupt.Cancel();
    }
}
