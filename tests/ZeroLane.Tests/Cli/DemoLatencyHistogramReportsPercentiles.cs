using Xunit;
using ZeroLane.Cli.Demo;

namespace ZeroLane.Tests.Cli;

/// <summary>The demo's latency histogram reports percentiles within its 1/32 bucket precision.</summary>
public sealed class DemoLatencyHistogramReportsPercentiles
{
    [Fact]
    public void PercentilesOfOneToAMillionAreWithinThreePercentOfTheTrueValues()
    {
        var histogram = new LatencyHistogram();
        for (long value = 1; value <= 1_000_000; value++)
        {
            histogram.Record(value);
        }

        Assert.Equal(1_000_000, histogram.Count);
        Assert.Equal(1_000_000, histogram.Max);
        Assert.InRange(histogram.Percentile(50), 500_000, 500_000 * 1.032);
        Assert.InRange(histogram.Percentile(99), 990_000, 990_000 * 1.032);
        Assert.Equal(1_000_000, histogram.Percentile(100));
    }

    [Fact]
    public void SmallValuesAreExactAndResetForgetsEverything()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(3);
        histogram.Record(5);
        histogram.Record(-4);

        Assert.Equal(3, histogram.Percentile(50));
        Assert.Equal(0, histogram.Percentile(1));
        histogram.Reset();
        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Percentile(99));
    }

    [Fact]
    public void BucketsCoverEveryNonNegativeLongWithoutGaps()
    {
        long[] values = [0, 31, 32, 33, 63, 64, 65, 1000, 1L << 40, long.MaxValue];
        foreach (long value in values)
        {
            int index = LatencyHistogram.IndexOf(value);
            Assert.True(LatencyHistogram.UpperBoundOf(index) >= value, $"{value} lies above its bucket {index}.");
            Assert.True(index == 0 || LatencyHistogram.UpperBoundOf(index - 1) < value, $"{value} also fits bucket {index - 1}.");
        }
    }
}
