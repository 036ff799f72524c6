using System.Diagnostics.Metrics;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>The RingMetrics instruments report a buffer's figures to a MeterListener, tagged with its name and role.</summary>
public sealed class RingMetricsInstruments : BufferTest
{
    private static Dictionary<(string Instrument, string Role), double> Collect(string bufferName)
    {
        var measurements = new Dictionary<(string, string), double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RingMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? buffer = null, role = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "zerolane.buffer")
                {
                    buffer = tag.Value as string;
                }
                else if (tag.Key == "zerolane.role")
                {
                    role = tag.Value as string;
                }
            }
            if (buffer == bufferName)
            {
                lock (measurements)
                {
                    measurements[(instrument.Name, role ?? "?")] = value;
                }
            }
        }
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return measurements;
    }

    [Fact]
    public void TheInstrumentsReportTheBuffersFiguresForItsReaderAndWriter()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 6400 });
        using var writer = new RingWriter(name);
        writer.Write(new byte[5104], Safety.Timeout); // 5120 of 6400 used: 80%
        writer.Write(new byte[10], Safety.Timeout);
        reader.Read(Safety.Timeout);                  // held: nothing credited yet

        Dictionary<(string, string), double> measured = Collect(name);

        foreach (string role in new[] { "reader", "writer" })
        {
            Assert.Equal(6400, measured[("zerolane.buffer.capacity_bytes", role)]);
            Assert.Equal(6400 - 5120 - 26, measured[("zerolane.buffer.free_bytes", role)]);
            Assert.Equal((5120 + 26) / 6400.0, measured[("zerolane.buffer.utilization", role)], precision: 9);
            Assert.Equal(2, measured[("zerolane.buffer.frames_written", role)]);
            Assert.Equal(0, measured[("zerolane.buffer.frames_read", role)]);
            Assert.Equal((int)BufferHealth.Degraded, measured[("zerolane.buffer.health", role)]);
        }
    }

    [Fact]
    public void ADisposedBufferIsNoLongerMeasured()
    {
        string name = NewName();
        var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        Assert.NotEmpty(Collect(name));

        reader.Dispose();

        Assert.Empty(Collect(name));
    }
}
