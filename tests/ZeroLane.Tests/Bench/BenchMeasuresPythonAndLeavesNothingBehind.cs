using System.Text.Json;
using ZeroLane.Bench;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// <c>zerolane bench --only python,python-topic</c> measures the Python client as the ring's reader and as a topic's
/// subscriber (64 B, 1 MiB, 1080p) and as the echo of the 64 B latency, each right after the C# row it is compared with,
/// verifies zero copy by address, and leaves no buffer, topic, process or scratch file behind. Never asserts speed.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class BenchMeasuresPythonAndLeavesNothingBehind(PythonBenchRun run) : IClassFixture<PythonBenchRun>
{
    private IEnumerable<JsonElement> Rows => run.Documents.Select(d => d.RootElement);

    private IEnumerable<JsonElement> PythonRows => Rows.Where(r => r.GetProperty("transport").GetString() is "python" or "python-topic");

    [Fact]
    public void TheRunExitsCleanlyAndPrintsOnlyJsonLines()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        Assert.NotEmpty(run.Documents);
    }

    [Fact]
    public void EachPythonRowFollowsTheCSharpRowItIsComparedWith()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        var expected = new List<string>();
        foreach ((string csharp, string python) in new[] { ("zerolane", "python"), ("zerolane-topic", "python-topic") })
        {
            foreach (int size in new[] { 64, 1 << 20, BenchSettings.VideoFrameBytes })
            {
                expected.Add($"{csharp}/throughput/spin-then-block/{size}");
                expected.Add($"{python}/throughput/spin-then-block/{size}");
            }
            expected.Add($"{csharp}/latency/spin-then-block/64");
            expected.Add($"{python}/latency/spin-then-block/64");
        }

        Assert.Equal(expected, Rows.Select(row =>
            $"{row.GetProperty("transport").GetString()}/{row.GetProperty("mode").GetString()}/{row.GetProperty("wait").GetString()}/{row.GetProperty("frame_bytes").GetInt64()}"));
    }

    [Fact]
    public void ZeroCopyIsVerifiedByAddressInsideTheRunsSharedMemory()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        // Beside JSON lines the part's note goes to stderr; each Python peer fails the run if a view lies outside the mapping.
        // The first data frame of each phase (warm-up, two halves) of each of the four Python peers of each part.
        Assert.Contains("python: ", run.Result.Error);
        Assert.Contains("python-topic: ", run.Result.Error);
        Assert.Equal(2, run.Result.Error.Split("Zero copy verified by address (12 checks").Length - 1);
        // In the ring's segment, and in a topic publisher's segment (zlt.TOPIC.p.PID.ID).
        Assert.Contains($"inside the Python process's mapping of /dev/shm/{run.NamePrefix}", run.Result.Error);
        Assert.Contains($"inside the Python process's mapping of /dev/shm/zlt.{run.NamePrefix}", run.Result.Error);
    }

    [Fact]
    public void RatesArePositiveAndLatencyPercentilesOrdered()
    {
        Assert.NotEmpty(PythonRows);
        Assert.All(Rows, row =>
        {
            double frames = row.GetProperty("frames_per_sec").GetDouble();
            Assert.True(frames > 0, row.ToString());
            Assert.Equal(frames * row.GetProperty("frame_bytes").GetInt64(), row.GetProperty("bytes_per_sec").GetDouble(), tolerance: Math.Max(1, frames * 1e-3));
            if (row.GetProperty("mode").GetString() == "latency")
            {
                double[] values = new[] { "p50_ns", "p99_ns", "p999_ns", "max_ns" }.Select(field => row.GetProperty(field).GetDouble()).ToArray();
                Assert.True(values[0] > 0 && values[0] <= values[1] && values[1] <= values[2] && values[2] <= values[3], row.ToString());
            }
        });
    }

    [Fact]
    public void PythonRowsCarryTheCSharpSidesAllocationOnly()
    {
        Assert.NotEmpty(PythonRows);
        Assert.All(PythonRows, row =>
        {
            Assert.True(row.GetProperty("sender_allocated_bytes_per_frame").GetDouble() >= 0, row.ToString());
            Assert.Equal(JsonValueKind.Null, row.GetProperty("receiver_allocated_bytes_per_frame").ValueKind);
            Assert.Equal(JsonValueKind.Null, row.GetProperty("allocated_bytes_per_frame").ValueKind);
            Assert.Equal(1, row.GetProperty("runs").GetInt32());
            JsonElement subscribers = row.GetProperty("subscribers");
            Assert.True(row.GetProperty("transport").GetString() == "python-topic" ? subscribers.GetInt32() == 1 : subscribers.ValueKind == JsonValueKind.Null, row.ToString());
        });
    }

    [Fact]
    public void NoBufferProcessOrScratchDirectoryOfTheRunIsLeftBehind()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        Assert.Empty(run.LeftoverSharedMemory);
        Assert.Empty(run.LeftoverProcesses);
        Assert.Empty(run.LeftoverScratch);
    }
}
