using System.Diagnostics;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Python;

/// <summary>Runs <see cref="Prerequisites.SystemPython"/> to completion, or kills it (and its children) at a timeout.</summary>
internal static class PythonProcess
{
    /// <summary>
    /// Options of every pytest run: no .pytest_cache in the repository (-p no:cacheprovider); no __pycache__ either
    /// (PYTHONDONTWRITEBYTECODE, see <see cref="Run"/>).
    /// </summary>
    internal static readonly string[] PytestOptions = ["-p", "no:cacheprovider"];

    internal sealed record Result(string CommandLine, int ExitCode, bool TimedOut, string Output, string Error);

    internal static string Describe(string commandLine) => $"'{commandLine}'";

    internal static Result Run(string workingDirectory, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(Prerequisites.SystemPython)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        startInfo.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        string commandLine = $"{Prerequisites.SystemPython} {string.Join(' ', arguments)}";
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {commandLine}.");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(timeout);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
        return new Result(commandLine, exited ? process.ExitCode : -1, !exited, output.Result, error.Result);
    }
}
