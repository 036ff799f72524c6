using System.Diagnostics;

namespace ZeroLane.Tests.Bench;

/// <summary>Runs the built command-line tool (ZeroLane.Cli.dll, copied next to the tests) as a child process.</summary>
internal static class CliProcess
{
    /// <summary>The tool's assembly in the test output directory.</summary>
    internal static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, "ZeroLane.Cli.dll");

    /// <summary>Runs the tool to completion (killing it after <paramref name="timeout"/>, a safety net only) and returns its exit code and output.</summary>
    internal static (int ExitCode, int ProcessId, string Output, string Errors) Run(TimeSpan timeout, params string[] arguments)
    {
        if (!File.Exists(AssemblyPath))
        {
            throw new FileNotFoundException($"ZeroLane.Cli.dll was not copied to the test output directory ({AppContext.BaseDirectory}).", AssemblyPath);
        }
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(AssemblyPath);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        using var process = Process.Start(startInfo)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"zerolane {string.Join(' ', arguments)} did not finish within {timeout}.\n{errors.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, process.Id, output.Result, errors.Result);
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }
        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
