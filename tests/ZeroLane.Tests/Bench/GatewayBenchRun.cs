using System.Text.Json;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// Two small <c>zerolane bench --only gateway</c> runs, one with <c>--json</c> and one printing the table, shared by the
/// tests of <see cref="BenchMeasuresGatewayAndLeavesNothingBehind"/>, each with what was left of it afterwards: objects in
/// /dev/shm and the lock directory, processes (its nats-server's command line names its configuration in
/// /tmp/zlbench-PID-nats-*), and temporary directories.
/// </summary>
/// <remarks>
/// One size (64 B), short windows and one run per measurement (two in the table run, so its runs interleave) keep each run
/// to a few seconds. Not run when nats-server is missing; every test then fails with <see cref="Prerequisites.NatsServer"/>'s
/// message. Dispose kills any process of either run still alive and removes its objects, so a failing run leaves nothing
/// for the next test either.
/// </remarks>
public sealed class GatewayBenchRun : IDisposable
{
    private static readonly string[] s_common =
        ["bench", "--only", "gateway", "--sizes", "64", "--seconds", "0.2", "--warmup", "0.05"];

    internal static readonly string[] JsonArguments = [.. s_common, "--repeat", "1", "--json"];

    internal static readonly string[] TableArguments = [.. s_common, "--repeat", "2"];

    private readonly ToolResult? _json;
    private readonly ToolResult? _table;

    public GatewayBenchRun()
    {
        if (Prerequisites.NatsServer.MissingMessage is not null)
        {
            Documents = [];
            return;
        }
        _json = ToolProcess.Run(TimeSpan.FromMinutes(3), JsonArguments);
        JsonLeftovers = Leftovers(_json);
        Documents = _json.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line))
            .ToArray();
        _table = ToolProcess.Run(TimeSpan.FromMinutes(3), TableArguments);
        TableLeftovers = Leftovers(_table);
    }

    /// <summary>The <c>--json</c> run.</summary>
    internal ToolResult Json
    {
        get
        {
            Prerequisites.NatsServer.Require();
            return _json!;
        }
    }

    /// <summary>The run that prints the table, its summary lines and notes.</summary>
    internal ToolResult Table
    {
        get
        {
            Prerequisites.NatsServer.Require();
            return _table!;
        }
    }

    internal JsonDocument[] Documents { get; }

    /// <summary>What the JSON run left right after it ended: files in /dev/shm and the lock directory, processes, /tmp directories.</summary>
    internal string[] JsonLeftovers { get; } = [];

    /// <summary>What the table run left right after it ended.</summary>
    internal string[] TableLeftovers { get; } = [];

    /// <summary>Every name of a run (topics, rings, the server's directory) contains this.</summary>
    private static string NamePrefix(ToolResult run) => $"zlbench-{run.ProcessId}-";

    private static string[] Leftovers(ToolResult run)
    {
        string prefix = NamePrefix(run);
        return
        [
            .. BenchRunLeftovers.SharedMemory(prefix),
            .. BenchRunLeftovers.Processes(prefix).Select(pid => $"process {pid}"),
            .. Directory.EnumerateDirectories(Path.GetTempPath(), prefix + "*"),
        ];
    }

    public void Dispose()
    {
        foreach (JsonDocument document in Documents)
        {
            document.Dispose();
        }
        foreach (ToolResult? run in new[] { _json, _table })
        {
            if (run is null)
            {
                continue;
            }
            BenchRunLeftovers.Remove(NamePrefix(run));
            foreach (string directory in Directory.EnumerateDirectories(Path.GetTempPath(), NamePrefix(run) + "*"))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
