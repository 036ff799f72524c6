using System.Globalization;
using System.Text.Json;
using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// <c>zerolane bench --only duplex</c> measures every duplex row it promises (the whole round trip of the echo and the loan
/// handler, requests/s with 1, 4 and 16 in flight) plus the ring's ping-pong it is compared with, prints them with the
/// comparison and the targets, and leaves no buffer or process behind. Never asserts speed.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class BenchMeasuresDuplexAndLeavesNothingBehind : IClassFixture<DuplexBenchRun>
{
    private readonly DuplexBenchRun _run;

    public BenchMeasuresDuplexAndLeavesNothingBehind(DuplexBenchRun run) => _run = run;

    private IEnumerable<JsonElement> Rows => _run.Documents.Select(d => d.RootElement);

    private IEnumerable<JsonElement> DuplexRows =>
        Rows.Where(r => r.GetProperty("transport").GetString() is "zerolane-duplex" or "zerolane-duplex-loan");

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
            // The ring's own ping-pong, measured in the same run for the comparison (the ring part was not selected).
            "zerolane/latency/spin-then-block/64/-",
            "zerolane-duplex/round-trip/spin-then-block/64/-",
            "zerolane-duplex-loan/round-trip/spin-then-block/64/-",
            "zerolane-duplex/throughput/spin-then-block/64/1",
            "zerolane-duplex/throughput/spin-then-block/64/4",
            "zerolane-duplex/throughput/spin-then-block/64/16",
        ];

        Assert.Equal(expected.Order(), Rows.Select(Key).Order());
    }

    [Fact]
    public void RoundTripRowsHaveOrderedPercentilesAndThroughputRowsNone()
    {
        Assert.NotEmpty(DuplexRows);
        string[] fields = ["p50_ns", "p99_ns", "p999_ns", "max_ns"];
        Assert.All(DuplexRows, row =>
        {
            if (row.GetProperty("mode").GetString() == "round-trip")
            {
                double[] values = fields.Select(field => row.GetProperty(field).GetDouble()).ToArray();
                Assert.True(values[0] > 0 && values[0] <= values[1] && values[1] <= values[2] && values[2] <= values[3], row.ToString());
            }
            else
            {
                Assert.All(fields, field => Assert.Equal(JsonValueKind.Null, row.GetProperty(field).ValueKind));
            }
        });
    }

    [Fact]
    public void OnlyThePipeliningRowsSayHowManyRequestsWereInFlight()
    {
        Assert.NotEmpty(_run.Documents);
        Assert.All(Rows, row =>
        {
            JsonElement inFlight = row.GetProperty("in_flight");
            if (row.GetProperty("transport").GetString() == "zerolane-duplex" && row.GetProperty("mode").GetString() == "throughput")
            {
                Assert.True(inFlight.GetInt32() is 1 or 4 or 16, row.ToString());
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, inFlight.ValueKind);
            }
        });
    }

    [Fact]
    public void RatesArePositiveAndBothSidesReportTheirAllocationPerCall()
    {
        Assert.NotEmpty(DuplexRows);
        Assert.All(DuplexRows, row =>
        {
            Assert.True(row.GetProperty("frames_per_sec").GetDouble() > 0, row.ToString());
            double client = row.GetProperty("sender_allocated_bytes_per_frame").GetDouble();
            double server = row.GetProperty("receiver_allocated_bytes_per_frame").GetDouble();
            Assert.True(client >= 0 && server >= 0, row.ToString());
            Assert.Equal(client + server, row.GetProperty("allocated_bytes_per_frame").GetDouble(), tolerance: 1e-9);
        });
    }

    [Fact]
    public void TheTableShowsTheDuplexRowsBesideTheRingsPingPong()
    {
        Assert.True(_run.Table.ExitCode == 0, _run.Table.ToString());
        string[] lines = _run.Table.Output.Split('\n');
        string Row(string transport, string mode) => Assert.Single(lines, line =>
        {
            string[] cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return cells.Length > 2 && cells[0] == transport && cells[1] == mode;
        });

        Assert.Contains("spin-then-block", Row("zerolane", "latency"), StringComparison.Ordinal);
        Assert.Contains("64 B", Row("zerolane-duplex", "round-trip"), StringComparison.Ordinal);
        Assert.Contains("64 B", Row("zerolane-duplex-loan", "round-trip"), StringComparison.Ordinal);
        Assert.Equal(3, lines.Count(line => line.StartsWith("zerolane-duplex ", StringComparison.Ordinal) && line.Contains(" throughput ", StringComparison.Ordinal)));
    }

    [Fact]
    public void TheSummaryComparesTheWholeRoundTripWithTheRingsAndStatesEachTarget()
    {
        Assert.True(_run.Table.ExitCode == 0, _run.Table.ToString());
        string output = _run.Table.Output;

        foreach (string handler in new[] { "echo handler", "loan handler" })
        {
            string line = Assert.Single(output.Split('\n'), l => l.StartsWith($"duplex 64 B round trip, spin-then-block, {handler}: p50 ", StringComparison.Ordinal));
            Assert.Contains("vs ring ping-pong round trip (2 x one-way) p50 ", line, StringComparison.Ordinal);
            Assert.Matches(@"\(target p50 <= 1\.2x: (met|MISSED)\)", line);
        }
        Assert.Matches(@"duplex requests/s, 64 B, spin-then-block: 1 in flight [\d,]+/s, 4 in flight [\d,]+/s \([\d.]+x\), 16 in flight [\d,]+/s", output);
        Assert.Matches(@"duplex allocation per call, highest of all duplex rows: client [\d.E+-]+ B, server [\d.E+-]+ B \(target 0 B: (met|MISSED)\)", output);
        Assert.Contains("are the WHOLE round trip of one Request call", output, StringComparison.Ordinal);
        Assert.Matches(@"run by run.*: 64 B spin-then-block echo [\d.]+, [\d.]+, loan [\d.]+, [\d.]+\.", output);
    }

    [Fact]
    public void NoBufferOfEitherRunIsLeftBehind()
    {
        Assert.True(_run.Json.ExitCode == 0, _run.Json.ToString());
        Assert.True(_run.Table.ExitCode == 0, _run.Table.ToString());
        Assert.Empty(_run.JsonLeftoverSharedMemory);
        Assert.Empty(_run.TableLeftoverSharedMemory);
    }

    [Fact]
    public void NoPeerProcessOfEitherRunIsLeftRunning()
    {
        Assert.True(_run.Json.ExitCode == 0, _run.Json.ToString());
        Assert.True(_run.Table.ExitCode == 0, _run.Table.ToString());
        Assert.Empty(_run.JsonLeftoverProcesses);
        Assert.Empty(_run.TableLeftoverProcesses);
    }

    private static string Key(JsonElement row)
    {
        JsonElement inFlight = row.GetProperty("in_flight");
        return $"{row.GetProperty("transport").GetString()}/{row.GetProperty("mode").GetString()}/{row.GetProperty("wait").GetString() ?? "-"}/" +
            $"{row.GetProperty("frame_bytes").GetInt64()}/" +
            (inFlight.ValueKind == JsonValueKind.Null ? "-" : inFlight.GetInt32().ToString(CultureInfo.InvariantCulture));
    }
}
