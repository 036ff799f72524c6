using System.Text.Json;
using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// <c>zerolane bench --only gateway</c> (issue 13 point 7) measures the gateway path (publisher -> export gateway ->
/// nats-server -> import gateway -> subscriber), plain NATS.Net and the ring bridge over TCP at the same size, the
/// gateway's send call alone, and memcpy for the ratios; prints them with the ratios and the targets; and leaves no
/// shared memory, process (its nats-server included) or temporary directory behind. Never asserts speed.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class BenchMeasuresGatewayAndLeavesNothingBehind : IClassFixture<GatewayBenchRun>
{
    private readonly GatewayBenchRun _run;

    public BenchMeasuresGatewayAndLeavesNothingBehind(GatewayBenchRun run) => _run = run;

    private IEnumerable<JsonElement> Rows => _run.Documents.Select(d => d.RootElement);

    [Fact]
    public void BothRunsExitCleanlyAndTheJsonRunPrintsOnlyJsonLines()
    {
        Assert.True(_run.Json.ExitCode == 0, _run.Json.ToString());
        Assert.True(_run.Table.ExitCode == 0, _run.Table.ToString());
        Assert.NotEmpty(_run.Documents);
    }

    [Fact]
    public void EveryExpectedRowIsMeasuredExactlyOnce()
    {
        Assert.True(_run.Json.ExitCode == 0, _run.Json.ToString());
        string[] expected =
        [
            "memcpy/throughput/268435456",
            "zerolane-gateway/throughput/64",
            "zerolane-gateway-natsnet/throughput/64",
            "nats/throughput/64",
            "zerolane-bridge-tcp/throughput/64",
            "nats-sample-sender/send-loop/64",
            "direct-sample-sender/send-loop/64",
        ];

        Assert.Equal(expected.Order(), Rows.Select(Key).Order());
    }

    [Fact]
    public void RatesArePositiveAndEveryRowSaysWhatWasAllocatedPerSample()
    {
        Assert.True(_run.Json.ExitCode == 0, _run.Json.ToString());
        Assert.All(Rows.Where(row => row.GetProperty("transport").GetString() != "memcpy"), row =>
        {
            Assert.True(row.GetProperty("frames_per_sec").GetDouble() > 0, row.ToString());
            Assert.True(row.GetProperty("allocated_bytes_per_frame").GetDouble() >= 0, row.ToString());
        });
        JsonElement send = Assert.Single(Rows, row => row.GetProperty("transport").GetString() == "nats-sample-sender");
        Assert.True(send.GetProperty("sender_allocated_bytes_per_frame").GetDouble() >= 0, send.ToString());
        JsonElement direct = Assert.Single(Rows, row => row.GetProperty("transport").GetString() == "direct-sample-sender");
        Assert.True(direct.GetProperty("sender_allocated_bytes_per_frame").GetDouble() >= 0, direct.ToString());
    }

    [Fact]
    public void TheTableShowsEveryRowAndTheSummaryGivesTheRatiosAndTargets()
    {
        Assert.True(_run.Table.ExitCode == 0, _run.Table.ToString());
        string output = _run.Table.Output;
        string[] lines = output.Split('\n');
        foreach ((string transport, string mode) in new[]
        {
            ("zerolane-gateway", "throughput"), ("zerolane-gateway-natsnet", "throughput"), ("nats", "throughput"), ("zerolane-bridge-tcp", "throughput"),
            ("nats-sample-sender", "send-loop"), ("direct-sample-sender", "send-loop"),
        })
        {
            Assert.Single(lines, line =>
            {
                string[] cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return cells.Length > 2 && cells[0] == transport && cells[1] == mode && line.Contains("64 B", StringComparison.Ordinal);
            });
        }

        Assert.Matches(@"gateway 64 B: [\d,]+ samples/s \([\d.]+ GB/s\); [\d.]+% of memcpy; vs plain NATS\.Net [\d,]+/s \([\d.]+ GB/s\): [\d.]+x; "
            + @"vs ring bridge over TCP [\d,]+/s \([\d.]+ GB/s\): [\d.]+x; whole bench process allocated [\d.]+ B per sample delivered", output);
        Assert.Matches(@"gateway send side \(NatsSampleSender\.Send on the gateway's own connection, sending thread\): 64 B [\d,]+/s, [\d.]+ B per sample \(target 0 B: (met|MISSED)", output);
        Assert.Matches(@"gateway through NATS\.Net 64 B: [\d,]+ samples/s", output);
        Assert.Matches(@"gateway send side through NATS\.Net \(DirectConnection off, sending thread\): 64 B [\d,]+/s, [\d.]+ B per sample", output);
        Assert.Matches(@"NATS\.Net inside PublishAsync [\d.]+ B, NatsSampleSender's own 0 B", output);
        Assert.Matches(@"run by run.*: 64 B plain NATS\.Net [\d.]+, [\d.]+, bridge [\d.]+, [\d.]+, gateway through NATS\.Net over plain NATS\.Net [\d.]+, [\d.]+\.", output);
        Assert.Contains("the subscriber counts only samples with Forwarded = true", output, StringComparison.Ordinal);
        Assert.Contains("Overflow = BlockPublisher", output, StringComparison.Ordinal);
    }

    [Fact]
    public void NothingOfEitherRunIsLeftBehind()
    {
        Assert.True(_run.Json.ExitCode == 0, _run.Json.ToString());
        Assert.True(_run.Table.ExitCode == 0, _run.Table.ToString());
        Assert.Empty(_run.JsonLeftovers);
        Assert.Empty(_run.TableLeftovers);
    }

    private static string Key(JsonElement row) =>
        $"{row.GetProperty("transport").GetString()}/{row.GetProperty("mode").GetString()}/{row.GetProperty("frame_bytes").GetInt64()}";
}
