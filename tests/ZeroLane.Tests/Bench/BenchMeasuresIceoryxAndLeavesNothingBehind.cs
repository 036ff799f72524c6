using System.Text.Json;
using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// <c>zerolane bench --only iceoryx</c> measures Debian's iceoryx 2.0 as a real peer, through a C program against its C
/// binding and a RouDi the bench starts, and afterwards nothing of iceoryx is left: no shared memory, no RouDi or peer
/// process, no files in /tmp. Never asserts speed.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class BenchMeasuresIceoryxAndLeavesNothingBehind : IClassFixture<IceoryxBenchRun>
{
    private static readonly int[] s_sizes = [64, 1 << 20];

    private readonly IceoryxBenchRun _run;

    public BenchMeasuresIceoryxAndLeavesNothingBehind(IceoryxBenchRun run) => _run = run;

    [Fact]
    public void TheRunExitsCleanlyAndPrintsOnlyIceoryxRows()
    {
        ToolResult result = _run.Completed;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.NotEmpty(_run.Documents);
        Assert.All(_run.Documents, document => Assert.Equal("iceoryx", document.RootElement.GetProperty("transport").GetString()));
    }

    [Fact]
    public void EachModeWaitAndSizeIsMeasuredExactlyOnce()
    {
        _ = _run.Completed;
        var expected = new List<string>();
        foreach (string mode in new[] { "throughput", "latency" })
        {
            foreach (string wait in new[] { "busy-spin", "blocking" })
            {
                expected.AddRange(s_sizes.Select(size => $"{mode}/{wait}/{size}"));
            }
        }

        string[] keys = _run.Documents.Select(d => d.RootElement)
            .Select(r => $"{r.GetProperty("mode").GetString()}/{r.GetProperty("wait").GetString()}/{r.GetProperty("frame_bytes").GetInt64()}")
            .ToArray();

        Assert.Equal(expected.Order(), keys.Order());
    }

    [Fact]
    public void RatesArePositiveAndBytesPerSecondIsFramesTimesSize()
    {
        _ = _run.Completed;
        Assert.All(_run.Documents, document =>
        {
            JsonElement result = document.RootElement;
            double frames = result.GetProperty("frames_per_sec").GetDouble();
            double bytes = result.GetProperty("bytes_per_sec").GetDouble();
            Assert.True(frames > 0, result.ToString());
            Assert.Equal(frames * result.GetProperty("frame_bytes").GetInt64(), bytes, tolerance: Math.Max(1, bytes * 1e-6));
        });
    }

    [Fact]
    public void LatencyRowsHaveOrderedPercentilesAndThroughputRowsNone()
    {
        _ = _run.Completed;
        foreach (JsonElement result in _run.Documents.Select(d => d.RootElement))
        {
            string[] fields = ["p50_ns", "p99_ns", "p999_ns", "max_ns"];
            if (result.GetProperty("mode").GetString() == "latency")
            {
                double[] values = fields.Select(field => result.GetProperty(field).GetDouble()).ToArray();
                Assert.True(values[0] > 0 && values[0] <= values[1] && values[1] <= values[2] && values[2] <= values[3], result.ToString());
            }
            else
            {
                Assert.All(fields, field => Assert.Equal(JsonValueKind.Null, result.GetProperty(field).ValueKind));
            }
        }
    }

    [Fact]
    public void RowsHaveNoAllocationFiguresForTheyComeFromC()
    {
        _ = _run.Completed;
        Assert.All(_run.Documents, document =>
            Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("allocated_bytes_per_frame").ValueKind));
    }

    [Fact]
    public void NoIceoryxSharedMemoryIsLeftInDevShm()
    {
        _ = _run.Completed;
        // RouDi's management segment, and its payload segment, named after the group of the user that runs it.
        string[] iceoryxNames = ["iceoryx_mgmt", GroupName()];

        string[] appeared = _run.SharedMemoryAfter.Except(_run.SharedMemoryBefore).ToArray();

        Assert.Empty(appeared.Intersect(iceoryxNames));
        Assert.Equal(_run.SharedMemoryBefore.Intersect(iceoryxNames).Order(), _run.SharedMemoryAfter.Intersect(iceoryxNames).Order());
    }

    [Fact]
    public void NoRouDiOrPeerProcessIsLeftRunning()
    {
        _ = _run.Completed;
        Assert.Empty(_run.IceoryxProcessesAfter.Except(_run.IceoryxProcessesBefore));
    }

    [Fact]
    public void NoRouDiOrPeerFileIsLeftInTmp()
    {
        _ = _run.Completed;
        Assert.Equal(_run.RouDiFilesBefore, _run.RouDiFilesAfter);
        Assert.Empty(_run.LeftoverFilesOfTheRun());
    }

    [Fact]
    public void WithOnlySpinThenBlockIceoryxIsSkippedWithANote()
    {
        (int exitCode, _, string output, string errors) = ToolProcess.Run(
            ToolProcess.SafetyTimeout, "bench", "--only", "iceoryx", "--wait", "spin-then-block", "--seconds", "0.1", "--json");

        Assert.True(exitCode == 0, errors);
        Assert.Empty(output);
        Assert.Contains("iceoryx: skipped (it has no spin-then-block", errors);
    }

    /// <summary>The name of this process's group (RouDi names its payload segment after it).</summary>
    private static string GroupName()
    {
        string gid = File.ReadLines("/proc/self/status").First(line => line.StartsWith("Gid:", StringComparison.Ordinal))
            .Split('\t', StringSplitOptions.RemoveEmptyEntries)[2]; // "Gid:", real, effective, saved, filesystem
        return File.ReadLines("/etc/group").Select(line => line.Split(':')).FirstOrDefault(fields => fields.Length > 2 && fields[2] == gid)?[0] ?? gid;
    }
}
