using System.Text.Json;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// One small <c>zerolane bench --only python,python-topic --json</c> run, shared by the tests of
/// <see cref="BenchMeasuresPythonAndLeavesNothingBehind"/>, with what was left of it afterwards: buffers in /dev/shm and
/// the lock directory, peer processes, the run's scratch directory.
/// </summary>
/// <remarks>
/// Short windows and one wait strategy keep it to sixteen short measurements (eight C#, eight Python), about ten seconds. Dispose
/// kills any process of the run still alive (found by the run's buffer names in its command line) and removes its
/// buffers, so a failing run leaves nothing for the next test either.
/// </remarks>
public sealed class PythonBenchRun : IDisposable
{
    internal static readonly string[] Arguments =
        ["bench", "--only", "python,python-topic", "--wait", "spin-then-block", "--seconds", "0.2", "--warmup", "0.05", "--repeat", "1", "--json"];

    public PythonBenchRun()
    {
        Result = ToolProcess.Run(TimeSpan.FromMinutes(2), Arguments);
        LeftoverSharedMemory = BenchRunLeftovers.SharedMemory(NamePrefix);
        LeftoverProcesses = BenchRunLeftovers.Processes(NamePrefix);
        LeftoverScratch = Directory.EnumerateDirectories(Path.GetTempPath(), $"zerolane-python-{Result.ProcessId}-*").ToArray();
        Documents = Result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line))
            .ToArray();
    }

    internal ToolResult Result { get; }

    internal JsonDocument[] Documents { get; }

    /// <summary>The run's buffers right after it ended: segments, semaphores and lock files.</summary>
    internal string[] LeftoverSharedMemory { get; }

    /// <summary>The run's peer processes (C# and Python) still alive right after it ended.</summary>
    internal int[] LeftoverProcesses { get; }

    /// <summary>The run's scratch directories (where it wrote the Python peer) still there after it ended.</summary>
    internal string[] LeftoverScratch { get; }

    /// <summary>Every buffer and topic the run names contains this.</summary>
    internal string NamePrefix => $"zlbench-{Result.ProcessId}-";

    public void Dispose()
    {
        foreach (JsonDocument document in Documents)
        {
            document.Dispose();
        }
        BenchRunLeftovers.Remove(NamePrefix);
    }
}
