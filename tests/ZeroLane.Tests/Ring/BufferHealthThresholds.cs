using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Utilization and health: Healthy below 80%, Degraded from 80% to 95%, Critical above 95%.</summary>
public sealed class BufferHealthThresholds : BufferTest
{
    [Theory]
    [InlineData(0.0, BufferHealth.Healthy)]
    [InlineData(0.5, BufferHealth.Healthy)]
    [InlineData(0.7999, BufferHealth.Healthy)]
    [InlineData(0.80, BufferHealth.Degraded)]
    [InlineData(0.90, BufferHealth.Degraded)]
    [InlineData(0.95, BufferHealth.Degraded)]
    [InlineData(0.9501, BufferHealth.Critical)]
    [InlineData(1.0, BufferHealth.Critical)]
    public void HealthOfAUtilizationFollowsTheThresholds(double utilization, BufferHealth expected)
    {
        Assert.Equal(expected, BufferStats.HealthOf(utilization));
    }

    /// <summary>A 6400-byte block filled by one frame of (used - 16) bytes.</summary>
    [Theory]
    [InlineData(0, BufferHealth.Healthy)]
    [InlineData(5056, BufferHealth.Healthy)]   // 79%
    [InlineData(5120, BufferHealth.Degraded)]  // 80%
    [InlineData(6080, BufferHealth.Degraded)]  // 95%
    [InlineData(6144, BufferHealth.Critical)]  // 96%
    [InlineData(6400, BufferHealth.Critical)]  // 100%
    public void ARealFillLevelIsReportedAsUtilizationAndHealthByReaderWriterAndInspector(int used, BufferHealth expected)
    {
        const int payloadSize = 6400;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = payloadSize });
        using var writer = new RingWriter(name);
        if (used > 0)
        {
            writer.Write(new byte[used - 16], Safety.Timeout);
        }

        foreach (BufferStats stats in new[] { reader.GetStats(), writer.GetStats(), TestBuffers.StatsOrNull(name)! })
        {
            Assert.Equal(payloadSize - used, stats.FreeBytes);
            Assert.Equal((double)used / payloadSize, stats.Utilization, precision: 9);
            Assert.Equal(expected, stats.Health);
        }
    }

    [Fact]
    public void UtilizationFallsAsTheReaderReleasesFrames()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 6400 });
        using var writer = new RingWriter(name);
        for (int i = 0; i < 4; i++)
        {
            writer.Write(new byte[1600 - 16], Safety.Timeout);
        }
        Assert.Equal(BufferHealth.Critical, reader.GetStats().Health);

        reader.Read(Safety.Timeout).Dispose();
        Assert.Equal(0.75, reader.GetStats().Utilization, precision: 9);
        Assert.Equal(BufferHealth.Healthy, reader.GetStats().Health);
    }
}
