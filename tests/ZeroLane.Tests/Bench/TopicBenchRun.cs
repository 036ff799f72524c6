using System.Text.Json;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// One small <c>zerolane bench --only topics --json</c> run, shared by the tests of <see cref="BenchMeasuresTopicsAndLeavesNothingBehind"/>,
/// with what was left of it afterwards: topic objects in /dev/shm and processes.
/// </summary>
/// <remarks>
/// Short windows and one wait strategy (spin-then-block) keep it to ten short measurements of a few processes each, well
/// under 30 seconds. Dispose kills any process of the run still alive (by its ID, found by the run's names in its command
/// line) and removes its objects from /dev/shm, so a failing run leaves nothing for the next test either.
/// </remarks>
public sealed class TopicBenchRun : IDisposable
{
    internal static readonly string[] Arguments =
        ["bench", "--only", "topics", "--wait", "spin-then-block", "--seconds", "0.2", "--warmup", "0.05", "--json"];

    public TopicBenchRun()
    {
        Result = ToolProcess.Run(TimeSpan.FromMinutes(2), Arguments);
        LeftoverSharedMemory = BenchRunLeftovers.SharedMemory(NamePrefix);
        LeftoverProcesses = BenchRunLeftovers.Processes(NamePrefix);
        Documents = Result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line))
            .ToArray();
    }

    internal ToolResult Result { get; }

    internal JsonDocument[] Documents { get; }

    /// <summary>The run's objects right after it ended: topic segments and semaphores, ring buffers and their lock files.</summary>
    internal string[] LeftoverSharedMemory { get; }

    /// <summary>The run's peer processes still alive right after it ended.</summary>
    internal int[] LeftoverProcesses { get; }

    /// <summary>Every name the run gives (topics and the ring's reference buffers) starts with this.</summary>
    private string NamePrefix => $"zlbench-{Result.ProcessId}-";

    public void Dispose()
    {
        foreach (JsonDocument document in Documents)
        {
            document.Dispose();
        }
        BenchRunLeftovers.Remove(NamePrefix);
    }
}
