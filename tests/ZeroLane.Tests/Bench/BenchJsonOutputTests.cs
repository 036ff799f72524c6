using System.Text.Json;
using Xunit;

namespace ZeroLane.Tests.Bench;

/// <summary><c>zerolane bench --json</c> prints one well-formed result per measurement. Never asserts speed.</summary>
[Collection(ZeroLane.Tests.Infrastructure.NonParallelCollection.Name)]
public sealed class BenchJsonOutputTests
{
    private static readonly string[] s_requiredFields =
    [
        "transport", "mode", "wait", "frame_bytes", "frames_per_sec", "bytes_per_sec",
        "p50_ns", "p99_ns", "p999_ns", "max_ns", "allocated_bytes_per_frame",
        "cpus", "runs", "frames_per_sec_min", "frames_per_sec_max", "p50_ns_min", "p50_ns_max", "spread_percent", "unsteady",
        "cross_core_ns",
    ];

    private readonly BenchJsonRun _run;

    public BenchJsonOutputTests(BenchJsonRun run) => _run = run;

    [Fact]
    public void BenchExitsCleanlyAndPrintsOnlyJsonLines()
    {
        Assert.True(_run.ExitCode == 0, $"exit code {_run.ExitCode}\n{_run.Errors}");
        Assert.NotEmpty(_run.Lines);
        Assert.All(_run.Documents, document => Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind));
    }

    [Fact]
    public void EveryLineHasEveryRequiredField()
    {
        Assert.All(_run.Documents, document =>
        {
            foreach (string field in s_requiredFields)
            {
                Assert.True(document.RootElement.TryGetProperty(field, out _), $"'{field}' missing from {document.RootElement}");
            }
        });
    }

    [Fact]
    public void EveryTransportModeWaitAndSizeIsMeasuredExactlyOnce()
    {
        // --sizes 64,1M applies to every part with a size dimension (issue 10, point 4).
        int[] sizes = [64, 1 << 20];
        string[] keys = _run.Documents.Select(d => Key(d.RootElement)).ToArray();
        var expected = new List<string> { "memcpy/throughput/-/268435456", "cacheline/latency/-/64" };
        foreach (string mode in new[] { "throughput", "latency" })
        {
            foreach (int size in sizes)
            {
                foreach (string wait in new[] { "busy-spin", "spin-then-block", "blocking" })
                {
                    expected.Add($"zerolane/{mode}/{wait}/{size}");
                }
                expected.Add($"unix-socket/{mode}/-/{size}");
            }
        }
        // Messages of 8 parts through the ring: default strategy, frames of 1 KiB and more.
        expected.Add($"zerolane-message/throughput/spin-then-block/{1 << 20}");
        // Messages over sockets: sizes up to 64 KiB one per send and batched, larger ones as 8 parts and as one part.
        foreach (string kind in new[] { "tcp", "unix" })
        {
            expected.Add($"message-{kind}-single/throughput/-/64");
            expected.Add($"message-{kind}-batched/throughput/-/64");
            expected.Add($"message-{kind}-8-parts/throughput/-/{1 << 20}");
            expected.Add($"message-{kind}-contiguous/throughput/-/{1 << 20}");
        }
        // Mapped arrays at each size: open time, save against File.WriteAllBytes, read through spans, and one pass of GetAt and
        // of span indexing over its float elements.
        foreach (int size in sizes)
        {
            expected.AddRange([$"array/open/-/{size}", $"array/save/-/{size}", $"file/save/-/{size}", $"array/read/-/{size}",
                $"array/get/-/{size}", $"array/span-index/-/{size}"]);
        }
        // Topics at each size: latency per strategy; throughput per subscriber with 1 and 4 subscribers with spin-then-block and
        // blocking; the payload-writer rows at the largest size and the default strategy.
        foreach (int size in sizes)
        {
            foreach (string wait in new[] { "busy-spin", "spin-then-block", "blocking" })
            {
                expected.Add($"zerolane-topic/latency/{wait}/{size}/1/-");
            }
            foreach (string wait in new[] { "spin-then-block", "blocking" })
            {
                expected.Add($"zerolane-topic/throughput/{wait}/{size}/1/-");
                expected.Add($"zerolane-topic/throughput/{wait}/{size}/4/-");
            }
        }
        expected.Add($"zerolane-topic/throughput/spin-then-block/{1 << 20}/1/full");
        expected.Add($"zerolane-topic/throughput/spin-then-block/{1 << 20}/1/modified");
        Assert.Equal(expected.Order(), keys.Order());
    }

    [Fact]
    public void EveryRowButTopicsIsTheMedianOfItsRunsWithTheirRangeAndSpread()
    {
        Assert.All(_run.Documents, document =>
        {
            JsonElement result = document.RootElement;
            if (result.GetProperty("transport").GetString() == "zerolane-topic")
            {
                // Topic rows are measured once.
                Assert.Equal(1, result.GetProperty("runs").GetInt32());
                Assert.Equal(JsonValueKind.Null, result.GetProperty("spread_percent").ValueKind);
                Assert.False(result.GetProperty("unsteady").GetBoolean());
                return;
            }
            Assert.Equal(2, result.GetProperty("runs").GetInt32());
            bool latency = result.GetProperty("p50_ns").ValueKind == JsonValueKind.Number;
            string headline = latency ? "p50_ns" : "frames_per_sec";
            double median = result.GetProperty(headline).GetDouble();
            double low = result.GetProperty(headline + "_min").GetDouble();
            double high = result.GetProperty(headline + "_max").GetDouble();
            Assert.True(low <= median && median <= high, result.ToString());
            double spread = result.GetProperty("spread_percent").GetDouble();
            Assert.Equal(100 * (high - low) / median, spread, tolerance: 1e-6);
            Assert.Equal(spread > 25, result.GetProperty("unsteady").GetBoolean());
            Assert.Equal(latency ? JsonValueKind.Number : JsonValueKind.Null, result.GetProperty("p50_ns_min").ValueKind);
        });
    }

    [Fact]
    public void BusySpinPeersArePinnedToTwoDifferentCpusAndNoOthersAre()
    {
        Assert.All(_run.Documents, document =>
        {
            JsonElement result = document.RootElement;
            JsonElement cpus = result.GetProperty("cpus");
            bool spinningPair = result.GetProperty("wait").GetString() == "busy-spin"
                && result.GetProperty("transport").GetString() is "zerolane" or "zerolane-topic";
            JsonElement crossCore = result.GetProperty("cross_core_ns");
            if (spinningPair && Environment.ProcessorCount >= 2)
            {
                string[] pair = cpus.GetString()!.Split(',');
                Assert.Equal(2, pair.Length);
                Assert.NotEqual(pair[0], pair[1]);
                // The ring's pinned pairs say how fast their two CPUs hand over a cache line just then.
                if (result.GetProperty("transport").GetString() == "zerolane")
                {
                    Assert.True(crossCore.GetDouble() > 0, result.ToString());
                }
            }
            else if (!spinningPair)
            {
                Assert.Equal(JsonValueKind.Null, cpus.ValueKind);
                Assert.Equal(JsonValueKind.Null, crossCore.ValueKind);
            }
        });
    }

    [Fact]
    public void RatesArePositiveAndBytesPerSecondIsFramesTimesSize()
    {
        Assert.All(_run.Documents, document =>
        {
            JsonElement result = document.RootElement;
            double frames = result.GetProperty("frames_per_sec").GetDouble();
            long size = result.GetProperty("frame_bytes").GetInt64();
            Assert.True(size > 0, result.ToString());
            Assert.True(frames > 0, result.ToString());
            if (result.GetProperty("mode").GetString() == "open")
            {
                // Opening an array maps it; there is no byte rate to report.
                Assert.Equal(JsonValueKind.Null, result.GetProperty("bytes_per_sec").ValueKind);
                return;
            }
            double bytes = result.GetProperty("bytes_per_sec").GetDouble();
            Assert.Equal(frames * size, bytes, tolerance: Math.Max(1, bytes * 1e-6));
        });
    }

    [Fact]
    public void LatencyPercentilesArePositiveAndOrdered()
    {
        foreach (JsonElement result in _run.Documents.Select(d => d.RootElement).Where(r => r.GetProperty("mode").GetString() == "latency"))
        {
            double p50 = result.GetProperty("p50_ns").GetDouble();
            double p99 = result.GetProperty("p99_ns").GetDouble();
            double p999 = result.GetProperty("p999_ns").GetDouble();
            double max = result.GetProperty("max_ns").GetDouble();
            Assert.True(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max, result.ToString());
        }
    }

    [Fact]
    public void ThroughputRowsHaveNoPercentiles()
    {
        foreach (JsonElement result in _run.Documents.Select(d => d.RootElement).Where(r => r.GetProperty("mode").GetString() == "throughput"))
        {
            foreach (string field in new[] { "p50_ns", "p99_ns", "p999_ns", "max_ns" })
            {
                Assert.Equal(JsonValueKind.Null, result.GetProperty(field).ValueKind);
            }
        }
    }

    [Fact]
    public void TransfersReportAllocationPerFrameAndMachineLimitsDoNot()
    {
        Assert.All(_run.Documents, document =>
        {
            JsonElement result = document.RootElement;
            string transport = result.GetProperty("transport").GetString()!;
            JsonElement allocated = result.GetProperty("allocated_bytes_per_frame");
            if (transport is "zerolane" or "zerolane-message" or "zerolane-topic" or "unix-socket")
            {
                Assert.True(allocated.GetDouble() >= 0, result.ToString());
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, allocated.ValueKind);
            }
        });
    }

    [Fact]
    public void OnlyRingsAndTopicsHaveAWaitStrategy()
    {
        Assert.All(_run.Documents, document =>
        {
            JsonElement result = document.RootElement;
            JsonElement wait = result.GetProperty("wait");
            if (result.GetProperty("transport").GetString() is "zerolane" or "zerolane-message" or "zerolane-topic")
            {
                Assert.Contains(wait.GetString(), new[] { "busy-spin", "spin-then-block", "blocking" });
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, wait.ValueKind);
            }
        });
    }

    /// <summary>transport/mode/wait/size, and for topic rows /subscribers/writer (their rows differ only there).</summary>
    private static string Key(JsonElement result)
    {
        string key = $"{result.GetProperty("transport").GetString()}/{result.GetProperty("mode").GetString()}/{result.GetProperty("wait").GetString() ?? "-"}/{result.GetProperty("frame_bytes").GetInt64()}";
        return result.GetProperty("transport").GetString() == "zerolane-topic"
            ? $"{key}/{result.GetProperty("subscribers").GetInt32()}/{result.GetProperty("writer").GetString() ?? "-"}"
            : key;
    }
}
