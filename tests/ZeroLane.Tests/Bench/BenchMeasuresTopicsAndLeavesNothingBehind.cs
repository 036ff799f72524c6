using System.Text.Json;
using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// <c>zerolane bench --only topics</c> measures every topic row it promises (latency, throughput with 1 and 4 subscribers
/// at three sizes, the payload writer's full and modified rows) plus the ring's latency it is compared with, with sane
/// figures and fields, and leaves no topic object, buffer or process behind. Never asserts speed.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class BenchMeasuresTopicsAndLeavesNothingBehind : IClassFixture<TopicBenchRun>
{
    private readonly TopicBenchRun _run;

    public BenchMeasuresTopicsAndLeavesNothingBehind(TopicBenchRun run) => _run = run;

    private IEnumerable<JsonElement> Rows => _run.Documents.Select(d => d.RootElement);

    private IEnumerable<JsonElement> TopicRows => Rows.Where(r => r.GetProperty("transport").GetString() == "zerolane-topic");

    [Fact]
    public void TheRunExitsCleanlyAndPrintsOnlyJsonLines()
    {
        Assert.True(_run.Result.ExitCode == 0, _run.Result.ToString());
        Assert.NotEmpty(_run.Documents);
    }

    [Fact]
    public void EveryExpectedRowIsMeasuredExactlyOnce()
    {
        Assert.True(_run.Result.ExitCode == 0, _run.Result.ToString());
        var expected = new List<string>
        {
            // The ring's own 64 B latency, measured in the same run for the topic's target (the ring part was not selected).
            "zerolane/latency/spin-then-block/64/-/-",
            "zerolane-topic/latency/spin-then-block/64/1/-",
        };
        foreach (int size in new[] { 64, 1 << 20, 8 << 20 })
        {
            foreach (int subscribers in new[] { 1, 4 })
            {
                expected.Add($"zerolane-topic/throughput/spin-then-block/{size}/{subscribers}/-");
            }
        }
        expected.Add($"zerolane-topic/throughput/spin-then-block/{8 << 20}/1/full");
        expected.Add($"zerolane-topic/throughput/spin-then-block/{8 << 20}/1/modified");

        Assert.Equal(expected.Order(), Rows.Select(Key).Order());
    }

    [Fact]
    public void EveryRowHasTheSubscribersAndWriterFieldsNullWhereTheyDoNotApply()
    {
        Assert.NotEmpty(_run.Documents);
        Assert.All(Rows, row =>
        {
            JsonElement subscribers = row.GetProperty("subscribers");
            JsonElement writer = row.GetProperty("writer");
            if (row.GetProperty("transport").GetString() == "zerolane-topic")
            {
                Assert.True(subscribers.GetInt32() is 1 or 4, row.ToString());
                Assert.True(writer.ValueKind == JsonValueKind.Null || writer.GetString() is "full" or "modified", row.ToString());
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, subscribers.ValueKind);
                Assert.Equal(JsonValueKind.Null, writer.ValueKind);
            }
        });
    }

    [Fact]
    public void RatesArePositiveAndBytesPerSecondIsFramesTimesSize()
    {
        Assert.NotEmpty(_run.Documents);
        Assert.All(Rows, row =>
        {
            double frames = row.GetProperty("frames_per_sec").GetDouble();
            double bytes = row.GetProperty("bytes_per_sec").GetDouble();
            Assert.True(frames > 0, row.ToString());
            Assert.Equal(frames * row.GetProperty("frame_bytes").GetInt64(), bytes, tolerance: Math.Max(1, bytes * 1e-6));
        });
    }

    [Fact]
    public void LatencyRowsHaveOrderedPercentilesAndThroughputRowsNone()
    {
        Assert.NotEmpty(_run.Documents);
        foreach (JsonElement row in Rows)
        {
            string[] fields = ["p50_ns", "p99_ns", "p999_ns", "max_ns"];
            if (row.GetProperty("mode").GetString() == "latency")
            {
                double[] values = fields.Select(field => row.GetProperty(field).GetDouble()).ToArray();
                Assert.True(values[0] > 0 && values[0] <= values[1] && values[1] <= values[2] && values[2] <= values[3], row.ToString());
            }
            else
            {
                Assert.All(fields, field => Assert.Equal(JsonValueKind.Null, row.GetProperty(field).ValueKind));
            }
        }
    }

    [Fact]
    public void TopicRowsReportAllocationPerSampleOfBothSides()
    {
        Assert.NotEmpty(TopicRows);
        Assert.All(TopicRows, row =>
        {
            double sender = row.GetProperty("sender_allocated_bytes_per_frame").GetDouble();
            double receiver = row.GetProperty("receiver_allocated_bytes_per_frame").GetDouble();
            Assert.True(sender >= 0 && receiver >= 0, row.ToString());
            Assert.Equal(sender + receiver, row.GetProperty("allocated_bytes_per_frame").GetDouble(), tolerance: 1e-9);
        });
    }

    [Fact]
    public void NoTopicObjectOrBufferOfTheRunIsLeftBehind()
    {
        Assert.True(_run.Result.ExitCode == 0, _run.Result.ToString());
        Assert.Empty(_run.LeftoverSharedMemory);
    }

    [Fact]
    public void NoPeerProcessOfTheRunIsLeftRunning()
    {
        Assert.True(_run.Result.ExitCode == 0, _run.Result.ToString());
        Assert.Empty(_run.LeftoverProcesses);
    }

    private static string Key(JsonElement row)
    {
        JsonElement subscribers = row.GetProperty("subscribers");
        return $"{row.GetProperty("transport").GetString()}/{row.GetProperty("mode").GetString()}/{row.GetProperty("wait").GetString() ?? "-"}/" +
            $"{row.GetProperty("frame_bytes").GetInt64()}/{(subscribers.ValueKind == JsonValueKind.Null ? "-" : subscribers.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture))}/" +
            $"{row.GetProperty("writer").GetString() ?? "-"}";
    }
}
