using System.Text.Json;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// One <c>zerolane bench --only iceoryx --json</c> run, shared by the tests of <see cref="BenchMeasuresIceoryxAndLeavesNothingBehind"/>,
/// with what iceoryx had on the machine before and after it: its shared memory, its files in /tmp and its processes.
/// </summary>
/// <remarks>
/// Two frame sizes (64 B and 1 MiB) rather than the default five keep the run to eight short measurements. Nothing runs
/// when the iceoryx prerequisite is missing; every test then fails with <see cref="Prerequisites.Iceoryx"/>'s message.
/// </remarks>
public sealed class IceoryxBenchRun : IDisposable
{
    internal static readonly string[] Arguments =
        ["bench", "--only", "iceoryx", "--sizes", "64,1048576", "--seconds", "0.5", "--warmup", "0", "--json"];

    /// <summary>iceoryx 2.0's fixed files in /tmp (its prefix is compiled in).</summary>
    internal static readonly string[] RouDiFiles = ["/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"];

    public IceoryxBenchRun()
    {
        if (Prerequisites.Iceoryx.MissingMessage is not null)
        {
            return;
        }
        SharedMemoryBefore = SharedMemoryNames();
        RouDiFilesBefore = RouDiFiles.Where(File.Exists).ToArray();
        IceoryxProcessesBefore = IceoryxProcesses();
        Result = ToolProcess.Run(TimeSpan.FromMinutes(3), Arguments);
        SharedMemoryAfter = SharedMemoryNames();
        RouDiFilesAfter = RouDiFiles.Where(File.Exists).ToArray();
        IceoryxProcessesAfter = IceoryxProcesses();
        Documents = Result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line))
            .ToArray();
    }

    internal ToolResult? Result { get; }
    internal JsonDocument[] Documents { get; } = [];
    internal string[] SharedMemoryBefore { get; } = [];
    internal string[] SharedMemoryAfter { get; } = [];
    internal string[] RouDiFilesBefore { get; } = [];
    internal string[] RouDiFilesAfter { get; } = [];
    internal (int Pid, string Name)[] IceoryxProcessesBefore { get; } = [];
    internal (int Pid, string Name)[] IceoryxProcessesAfter { get; } = [];

    /// <summary>The run's result, once the prerequisite has been checked (the test fails first if it is missing).</summary>
    internal ToolResult Completed
    {
        get
        {
            Prerequisites.Iceoryx.Require();
            return Result!;
        }
    }

    /// <summary>Files in /tmp named after the run's process ID: its peers' runtime files and its scratch directory.</summary>
    internal string[] LeftoverFilesOfTheRun() =>
        Directory.EnumerateFileSystemEntries("/tmp", $"zlbench-iox-{Completed.ProcessId}-*")
            .Concat(Directory.EnumerateFileSystemEntries(Path.GetTempPath(), $"zerolane-iceoryx-{Completed.ProcessId}-*"))
            .ToArray();

    private static string[] SharedMemoryNames() => Directory.EnumerateFileSystemEntries("/dev/shm").Select(Path.GetFileName).ToArray()!;

    /// <summary>Running RouDis and iceoryx peers (the peer's guard mode included), by their command name.</summary>
    private static (int Pid, string Name)[] IceoryxProcesses()
    {
        var found = new List<(int, string)>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }
            try
            {
                string name = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
                if (name is "iox-roudi" or "iceoryx_peer")
                {
                    found.Add((pid, name));
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }
        return found.ToArray();
    }

    public void Dispose()
    {
        foreach (JsonDocument document in Documents)
        {
            document.Dispose();
        }
    }
}
