using System.Diagnostics;
using System.Text;
using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>What a finished zerolane process left behind: its exit code, standard output and standard error.</summary>
internal sealed record ToolResult(int ExitCode, byte[] OutputBytes, string Error)
{
    internal string Output => Encoding.UTF8.GetString(OutputBytes);

    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>
/// The built zerolane tool running as a child process, started the way the dotnet host runs it
/// (<c>dotnet ZeroLane.Cli.dll ARGS</c>). The test project references the CLI project, so the tool's
/// assembly, runtimeconfig and deps files sit next to the test assembly.
/// </summary>
internal sealed class ToolProcess : IDisposable
{
    /// <summary>A safety net against hangs only; no test relies on how long anything takes.</summary>
    internal static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly Task<byte[]> _output;
    private readonly Task<string> _error;

    private ToolProcess(Process process)
    {
        _process = process;
        _output = Task.Run(async () =>
        {
            using var buffer = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(buffer);
            return buffer.ToArray();
        });
        _error = process.StandardError.ReadToEndAsync();
    }

    internal static string ToolAssembly => Path.Combine(AppContext.BaseDirectory, "ZeroLane.Cli.dll");

    internal int Id => _process.Id;

    internal bool HasExited => _process.HasExited;

    /// <summary>Starts <c>zerolane ARGS</c> with all three standard streams redirected.</summary>
    internal static ToolProcess Start(params string[] arguments)
    {
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
        return new ToolProcess(Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start zerolane."));
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

    /// <summary>Waits for the tool to exit (failing the test after <see cref="SafetyTimeout"/>) and returns what it printed.</summary>
    internal async Task<ToolResult> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(SafetyTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(entireProcessTree: true);
            ToolResult partial = new(-1, await _output, await _error);
            Assert.Fail($"zerolane did not exit within {SafetyTimeout.TotalSeconds} s; killed it.\n{partial}");
        }
        return new ToolResult(_process.ExitCode, await _output, await _error);
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

    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

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
