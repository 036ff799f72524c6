using System.Diagnostics;
using System.Text;
using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>What a finished zerolane process left behind: its exit code, standard output and standard error.</summary>
internal sealed record ToolResult(int ExitCode, byte[] OutputBytes, string Error)
{
    /// <summary>The tool's process ID (the bench names its buffers and sockets after it).</summary>
    internal int ProcessId { get; init; }

    internal string Output => Encoding.UTF8.GetString(OutputBytes);

    /// <summary>Takes the result apart in one statement: <c>(int exitCode, _, string output, string error) = ToolProcess.Run(...)</c>.</summary>
    internal void Deconstruct(out int exitCode, out int processId, out string output, out string error) =>
        (exitCode, processId, output, error) = (ExitCode, ProcessId, Output, Error);

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>
/// The built zerolane tool running as a child process, started the way the dotnet host runs it
/// (<c>dotnet ZeroLane.Cli.dll ARGS</c>). The test project references the CLI project, so the tool's
/// assembly, runtimeconfig and deps files sit next to the test assembly.
/// </summary>
/// <remarks>
/// Design: one way to start (<see cref="Start"/>, all three standard streams redirected), one way to wait
/// (<see cref="WaitAsync"/> or <see cref="Wait"/>: a safety timeout that fails the test and kills the tool, never a
/// pass/fail criterion), stdout collected as bytes and stderr as text from the start so a full pipe never blocks the
/// tool, and <see cref="Kill"/> / <see cref="Dispose"/> to end it. <see cref="Run"/> and <see cref="RunAsync"/> do all
/// of it for a tool that runs to completion.
/// </remarks>
internal sealed class ToolProcess : IDisposable
{
    /// <summary>A safety net against hangs only; no test relies on how long anything takes.</summary>
    internal static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly Task<byte[]> _output;
    private readonly Task<string> _error;
    private readonly string _commandLine;

    private ToolProcess(Process process, string commandLine)
    {
        _process = process;
        _commandLine = commandLine;
        _output = Task.Run(async () =>
        {
            using var buffer = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(buffer);
            return buffer.ToArray();
        });
        _error = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The tool's assembly in the test output directory.</summary>
    internal static string ToolAssembly => Path.Combine(AppContext.BaseDirectory, "ZeroLane.Cli.dll");

    internal int Id => _process.Id;

    internal bool HasExited => _process.HasExited;

    /// <summary>Starts <c>zerolane ARGS</c> with all three standard streams redirected.</summary>
    internal static ToolProcess Start(params string[] arguments)
    {
        if (!File.Exists(ToolAssembly))
        {
            throw new FileNotFoundException(
                $"ZeroLane.Cli.dll was not copied to the test output directory ({AppContext.BaseDirectory}); the test project references src/ZeroLane.Cli, so build the tests.",
                ToolAssembly);
        }
        var startInfo = new ProcessStartInfo(DotnetHost)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(ToolAssembly);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start zerolane.");
        return new ToolProcess(process, "zerolane " + string.Join(' ', arguments));
    }

    /// <summary>Runs <c>zerolane ARGS</c> to completion, feeding it <paramref name="input"/> (empty if null).</summary>
    internal static async Task<ToolResult> RunAsync(string[] arguments, byte[]? input = null)
    {
        using ToolProcess tool = Start(arguments);
        await tool.WriteInputAsync(input ?? []);
        return await tool.WaitAsync();
    }

    /// <summary>Runs <c>zerolane ARGS</c> to completion with empty standard input.</summary>
    internal static Task<ToolResult> RunAsync(params string[] arguments) => RunAsync(arguments, null);

    /// <summary>
    /// Runs <c>zerolane ARGS</c> to completion with empty standard input, blocking the calling thread (for fixtures,
    /// whose constructors cannot await), with a safety timeout longer than <see cref="SafetyTimeout"/> for long runs.
    /// </summary>
    internal static ToolResult Run(TimeSpan safetyTimeout, params string[] arguments)
    {
        using ToolProcess tool = Start(arguments);
        tool.WriteInputAsync([]).GetAwaiter().GetResult();
        return tool.Wait(safetyTimeout);
    }

    /// <summary>Writes <paramref name="input"/> to the tool's standard input and closes it.</summary>
    internal async Task WriteInputAsync(byte[] input)
    {
        try
        {
            await _process.StandardInput.BaseStream.WriteAsync(input);
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool exited without reading everything; its result says why.
        }
    }

    /// <summary>
    /// Waits for the tool to exit and returns what it printed; after <paramref name="safetyTimeout"/> (default
    /// <see cref="SafetyTimeout"/>) kills it and fails the test.
    /// </summary>
    internal async Task<ToolResult> WaitAsync(TimeSpan? safetyTimeout = null)
    {
        using var timeout = new CancellationTokenSource(safetyTimeout ?? SafetyTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await FailAfterTimeoutAsync(safetyTimeout ?? SafetyTimeout);
        }
        return await ResultAsync();
    }

    /// <summary>The blocking form of <see cref="WaitAsync"/>.</summary>
    internal ToolResult Wait(TimeSpan? safetyTimeout = null)
    {
        if (!_process.WaitForExit(safetyTimeout ?? SafetyTimeout))
        {
            FailAfterTimeoutAsync(safetyTimeout ?? SafetyTimeout).GetAwaiter().GetResult();
        }
        return ResultAsync().GetAwaiter().GetResult();
    }

    /// <summary>Kills the tool (and with <paramref name="entireProcessTree"/> its children) with SIGKILL, so it cannot clean up, and waits until it is gone.</summary>
    internal void Kill(bool entireProcessTree = false)
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree);
        }
        _process.WaitForExit();
    }

    /// <summary>
    /// Waits until the buffer exists with a live reader (the explicit signal that a <c>read</c> process is
    /// ready for a writer); fails if <paramref name="owner"/> exits first.
    /// </summary>
    internal static async Task<BufferStats> WaitForReaderAsync(string name, ToolProcess owner)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < SafetyTimeout)
        {
            if (TestBuffers.StatsOrNull(name) is { ReaderAlive: true } stats)
            {
                return stats;
            }
            if (owner.HasExited)
            {
                Assert.Fail($"zerolane exited before buffer '{name}' appeared.\n{await owner.WaitAsync()}");
            }
            await Task.Delay(20);
        }
        Assert.Fail($"Buffer '{name}' did not appear within {SafetyTimeout.TotalSeconds} s.");
        return null!;
    }

    /// <summary>Asserts an expected failure: exit code 1 and a single line on standard error, without a stack trace.</summary>
    internal static void AssertOneLineError(ToolResult result, string expectedText)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        string error = result.Error.Trim();
        Assert.Contains(expectedText, error);
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain("   at ", error);
    }

    /// <summary>The exit code and everything the tool printed, once it has exited and its streams have ended.</summary>
    private async Task<ToolResult> ResultAsync()
    {
        // The parameterless wait also waits for the redirected streams to reach their end.
        _process.WaitForExit();
        return new ToolResult(_process.ExitCode, await _output, await _error) { ProcessId = _process.Id };
    }

    private async Task FailAfterTimeoutAsync(TimeSpan safetyTimeout)
    {
        Kill(entireProcessTree: true);
        ToolResult partial = new(-1, await _output, await _error) { ProcessId = _process.Id };
        Assert.Fail($"{_commandLine} did not exit within {safetyTimeout.TotalSeconds} s; killed it.\n{partial}");
    }

    /// <summary>The dotnet host: DOTNET_HOST_PATH, else the one running this process if it is dotnet, else dotnet on PATH.</summary>
    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    /// <summary>Kills the tool and its children if it still runs. Never throws, so it is safe in a failing test's cleanup.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}
