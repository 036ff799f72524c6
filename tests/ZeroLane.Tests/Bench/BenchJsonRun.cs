using System.Text.Json;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// One tiny <c>zerolane bench --json</c> run shared by the bench tests (it takes several seconds), and the
/// removal of anything it could have left behind.
/// </summary>
public sealed class BenchJsonRun : IDisposable
{
    internal static readonly string[] Arguments =
        ["bench", "--sizes", "64,1M", "--seconds", "0.3", "--warmup", "0.1", "--repeat", "2", "--json"];

    public BenchJsonRun()
    {
        (ExitCode, ProcessId, Output, Errors) = ToolProcess.Run(TimeSpan.FromMinutes(5), Arguments);
        Lines = Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Documents = Lines.Select(line => JsonDocument.Parse(line)).ToArray();
    }

    internal int ExitCode { get; }
    internal int ProcessId { get; }
    internal string Output { get; }
    internal string Errors { get; }
    internal string[] Lines { get; }
    internal JsonDocument[] Documents { get; }

    /// <summary>The prefix of every buffer name the run used.</summary>
    internal string BufferPrefix => $"zlbench-{ProcessId}-";

    /// <summary>The run's buffers whose objects still exist.</summary>
    internal string[] LeftoverBufferNames() =>
        Directory.EnumerateFiles("/dev/shm")
            .Select(Path.GetFileName)
            .Select(name => name!.Replace("sem.sem-w-", "", StringComparison.Ordinal).Replace("sem.sem-r-", "", StringComparison.Ordinal))
            .Concat(Directory.Exists("/tmp/zerobuffer")
                ? Directory.EnumerateFiles("/tmp/zerobuffer", "*.lock").Select(Path.GetFileNameWithoutExtension)!
                : [])
            .Where(name => name!.StartsWith(BufferPrefix, StringComparison.Ordinal))
            .Distinct()
            .ToArray()!;

    public void Dispose()
    {
        foreach (JsonDocument document in Documents)
        {
            document.Dispose();
        }
        foreach (string name in LeftoverBufferNames())
        {
            TestBuffers.Remove(name);
        }
    }
}
