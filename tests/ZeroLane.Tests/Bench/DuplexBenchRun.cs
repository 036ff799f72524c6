using System.Text.Json;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// Two small <c>zerolane bench --only duplex</c> runs, one with <c>--json</c> and one printing the table, shared by the
/// tests of <see cref="BenchMeasuresDuplexAndLeavesNothingBehind"/>, each with what was left of it afterwards: buffers in
/// /dev/shm and the lock directory, and peer processes.
/// </summary>
/// <remarks>
/// One size (64 B), one wait strategy (spin-then-block), short windows and one run per measurement (two in the table run)
/// keep each run to six (twelve) short measurements of two processes (the ring's ping-pong, the echo and loan handlers' round trips, 1, 4 and 16 requests
/// in flight), a few seconds. Dispose kills any process of either run still alive (found by the run's names in its command
/// line) and removes its buffers, so a failing run leaves nothing for the next test either.
/// </remarks>
public sealed class DuplexBenchRun : IDisposable
{
    private static readonly string[] s_common =
        ["bench", "--only", "duplex", "--wait", "spin-then-block", "--sizes", "64", "--seconds", "0.2", "--warmup", "0.05"];

    internal static readonly string[] JsonArguments = [.. s_common, "--repeat", "1", "--json"];

    /// <summary>Two runs per measurement, so the ring's and the duplex runs are interleaved and compared run by run.</summary>
    internal static readonly string[] TableArguments = [.. s_common, "--repeat", "2"];

    public DuplexBenchRun()
    {
        Json = ToolProcess.Run(TimeSpan.FromMinutes(2), JsonArguments);
        JsonLeftoverSharedMemory = BenchRunLeftovers.SharedMemory(NamePrefix(Json));
        JsonLeftoverProcesses = BenchRunLeftovers.Processes(NamePrefix(Json));
        Documents = Json.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line))
            .ToArray();
        Table = ToolProcess.Run(TimeSpan.FromMinutes(2), TableArguments);
        TableLeftoverSharedMemory = BenchRunLeftovers.SharedMemory(NamePrefix(Table));
        TableLeftoverProcesses = BenchRunLeftovers.Processes(NamePrefix(Table));
    }

    /// <summary>The <c>--json</c> run.</summary>
    internal ToolResult Json { get; }

    internal JsonDocument[] Documents { get; }

    /// <summary>The run that prints the table, its summary lines and notes.</summary>
    internal ToolResult Table { get; }

    /// <summary>The JSON run's buffers right after it ended: segments, semaphores and lock files.</summary>
    internal string[] JsonLeftoverSharedMemory { get; }

    /// <summary>The JSON run's peer processes still alive right after it ended.</summary>
    internal int[] JsonLeftoverProcesses { get; }

    /// <summary>The table run's buffers right after it ended.</summary>
    internal string[] TableLeftoverSharedMemory { get; }

    /// <summary>The table run's peer processes still alive right after it ended.</summary>
    internal int[] TableLeftoverProcesses { get; }

    /// <summary>Every buffer a run names (the ring's ping-pong, each channel's NAME_request and NAME_response) contains this.</summary>
    private static string NamePrefix(ToolResult run) => $"zlbench-{run.ProcessId}-";

    public void Dispose()
    {
        foreach (JsonDocument document in Documents)
        {
            document.Dispose();
        }
        BenchRunLeftovers.Remove(NamePrefix(Json));
        BenchRunLeftovers.Remove(NamePrefix(Table));
    }
}
