using ZeroLane.Cli;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>What a run of the tool in the test process ended with.</summary>
/// <param name="Finished">False if the run was still going after <see cref="ToolInThisProcess.Limit"/>.</param>
/// <param name="ExitCode">The exit code the tool would have returned.</param>
/// <param name="Output">What it wrote to <see cref="Console.Out"/>.</param>
/// <param name="Error">What it wrote to <see cref="Console.Error"/>.</param>
/// <param name="Exception">An exception that escaped the tool: in a process of its own, an unhandled exception and a stack trace.</param>
internal sealed record InProcessResult(bool Finished, int ExitCode, string Output, string Error, Exception? Exception)
{
    public override string ToString() =>
        $"exit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}" + (Exception is null ? "" : $"\n--- exception ---\n{Exception}");
}

/// <summary>
/// Runs the tool in this process through the entry Program.cs uses (<see cref="ToolCommands.CreateRoot"/>,
/// <see cref="CommandRunner.RunAsync"/>), with <see cref="Console.Out"/> and <see cref="Console.Error"/> captured, empty
/// <see cref="Console.In"/>, and a working directory of the caller's choice.
/// </summary>
/// <remarks>
/// Design: the console's writers and the working directory belong to the process, so only tests in a collection
/// that runs alone (ToolInThisProcessCollection) may use this. A run still going after <see cref="Limit"/> is stopped
/// through the token Ctrl+C would cancel and reported as not finished. Output a command writes to the raw standard
/// output stream (<c>read</c>'s frames) is not captured.
/// </remarks>
internal static class ToolInThisProcess
{
    /// <summary>
    /// How long a run may take before it is stopped and reported as not finished: a guard against hangs, not a
    /// measure. Some runs do real work (a sweep case with a valid value runs a short bench, whose memcpy row copies
    /// 256 MiB several times), which took over 10 s on the 2-CPU CI machine under the suite's own load.
    /// </summary>
    internal static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    internal static async Task<InProcessResult> RunAsync(string[] arguments, string workingDirectory)
    {
        TextWriter output = Console.Out;
        TextWriter error = Console.Error;
        TextReader input = Console.In;
        string directory = Environment.CurrentDirectory;
        var capturedOutput = new StringWriter();
        var capturedError = new StringWriter();
        using var stop = new CancellationTokenSource();
        Console.SetOut(capturedOutput);
        Console.SetError(capturedError);
        Console.SetIn(new StringReader(""));
        Environment.CurrentDirectory = workingDirectory;
        try
        {
            Task<int> run = Task.Run(() => CommandRunner.RunAsync(ToolCommands.CreateRoot(), arguments, stop.Token));
            bool finished = await Task.WhenAny(run, Task.Delay(Limit)) == run;
            if (!finished)
            {
                stop.Cancel();
                // Give it a moment to stop, so that it does not write into the next run's console.
                await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5)));
            }
            Exception? exception = run.IsFaulted ? run.Exception!.InnerException : null;
            int exitCode = run.IsCompletedSuccessfully ? run.Result : -1;
            return new InProcessResult(finished, exitCode, capturedOutput.ToString(), capturedError.ToString(), exception);
        }
        finally
        {
            Environment.CurrentDirectory = directory;
            Console.SetOut(output);
            Console.SetError(error);
            Console.SetIn(input);
        }
    }
}
