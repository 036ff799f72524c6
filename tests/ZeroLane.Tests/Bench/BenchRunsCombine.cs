using ZeroLane.Bench;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// Several runs of one measurement make one row (issue 10, point 10): the median of each figure, the lowest and highest
/// headline figure (p50 for latency rows, frames/s for the others), their spread, and the unsteady mark above 25%.
/// </summary>
public sealed class BenchRunsCombine
{
    [Fact]
    public void ThroughputRunsGiveTheMedianRateAndItsRange()
    {
        BenchResult row = BenchResult.Combine([Throughput(11.2e6), Throughput(2.9e6), Throughput(10.8e6)]);

        Assert.Equal(3, row.Runs);
        Assert.Equal(10.8e6, row.FramesPerSec);
        Assert.Equal(10.8e6 * 64, row.BytesPerSec);
        Assert.Equal(2.9e6, row.FramesPerSecMin);
        Assert.Equal(11.2e6, row.FramesPerSecMax);
        Assert.Equal(100 * (11.2e6 - 2.9e6) / 10.8e6, row.SpreadPercent!.Value, 6);
        Assert.True(row.Unsteady);
    }

    [Fact]
    public void LatencyRowsAreJudgedByTheirP50()
    {
        BenchResult row = BenchResult.Combine([Latency(p50: 300, max: 9_000), Latency(p50: 310, max: 1_000), Latency(p50: 290, max: 5_000)]);

        Assert.Equal(300, row.P50Ns);
        Assert.Equal(5_000, row.MaxNs);
        Assert.Equal(290, row.P50NsMin);
        Assert.Equal(310, row.P50NsMax);
        Assert.Equal(100 * 20 / 300.0, row.SpreadPercent!.Value, 6);
        Assert.False(row.Unsteady);
    }

    [Fact]
    public void AnEvenNumberOfRunsTakesTheMeanOfTheMiddleTwo()
    {
        Assert.Equal(15, BenchResult.Combine([Throughput(10), Throughput(30), Throughput(20), Throughput(0)]).FramesPerSec);
    }

    [Fact]
    public void TheHighestAllocationOfAnyRunIsKept()
    {
        BenchResult row = BenchResult.Combine([Throughput(1) with { SenderAllocatedBytesPerFrame = 0 }, Throughput(1) with { SenderAllocatedBytesPerFrame = 0.5 }]);

        Assert.Equal(0.5, row.SenderAllocatedBytesPerFrame);
    }

    [Fact]
    public void OneRunHasNoSpreadAndIsNeverUnsteady()
    {
        BenchResult row = BenchResult.Combine([Throughput(5)]);

        Assert.Equal(1, row.Runs);
        Assert.Null(row.SpreadPercent);
        Assert.False(row.Unsteady);
    }

    [Fact]
    public void TheJsonCarriesRunsRangeSpreadAndTheMark()
    {
        string json = BenchResult.Combine([Throughput(100), Throughput(200), Throughput(300)]).ToJson();

        Assert.Contains("\"runs\":3", json);
        Assert.Contains("\"frames_per_sec_min\":100", json);
        Assert.Contains("\"frames_per_sec_max\":300", json);
        Assert.Contains("\"p50_ns_min\":null", json);
        Assert.Contains("\"spread_percent\":100", json);
        Assert.Contains("\"unsteady\":true", json);
    }

    private static BenchResult Throughput(double framesPerSec) => new()
    {
        Transport = "zerolane", Mode = "throughput", Wait = "busy-spin", FrameBytes = 64, FramesPerSec = framesPerSec, BytesPerSec = framesPerSec * 64,
        SenderAllocatedBytesPerFrame = 0, ReceiverAllocatedBytesPerFrame = 0, AllocatedBytesPerFrame = 0,
    };

    private static BenchResult Latency(double p50, double max) => new()
    {
        Transport = "zerolane", Mode = "latency", Wait = "busy-spin", FrameBytes = 64, FramesPerSec = 1e6, BytesPerSec = 64e6,
        P50Ns = p50, P99Ns = p50 * 2, P999Ns = p50 * 3, MaxNs = max,
    };
}
