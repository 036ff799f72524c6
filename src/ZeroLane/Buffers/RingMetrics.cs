using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ZeroLane.Buffers;

/// <summary>
/// The buffer figures as System.Diagnostics.Metrics instruments on the meter <c>ZeroLane.Buffers</c>, one
/// measurement per open reader or writer, tagged with <c>zerolane.buffer</c> and <c>zerolane.role</c>.
/// </summary>
/// <remarks>Observable instruments: nothing is measured unless a listener collects.</remarks>
public static class RingMetrics
{
    /// <summary>The meter's name, for <c>MeterListener</c> or OpenTelemetry's <c>AddMeter</c>.</summary>
    public const string MeterName = "ZeroLane.Buffers";

    private static readonly ConcurrentDictionary<object, byte> s_open = new();
    private static readonly Meter s_meter = new(MeterName, "1.0");

    static RingMetrics()
    {
        s_meter.CreateObservableGauge("zerolane.buffer.utilization", () => Observe(s => s.Utilization), unit: "1",
            description: "Fraction of the payload block in use.");
        s_meter.CreateObservableGauge("zerolane.buffer.free_bytes", () => Observe(s => s.FreeBytes), unit: "By",
            description: "Free bytes of the payload block.");
        s_meter.CreateObservableGauge("zerolane.buffer.capacity_bytes", () => Observe(s => s.PayloadCapacity), unit: "By",
            description: "Size of the payload block.");
        s_meter.CreateObservableCounter("zerolane.buffer.frames_written", () => Observe(s => (long)s.FramesWritten), unit: "{frame}",
            description: "Items published by the writer (written_count).");
        s_meter.CreateObservableCounter("zerolane.buffer.frames_read", () => Observe(s => (long)s.FramesRead), unit: "{frame}",
            description: "Items released by the reader (read_count).");
        s_meter.CreateObservableGauge("zerolane.buffer.health", () => Observe(s => (int)s.Health), unit: "1",
            description: "0 Healthy (<80%), 1 Degraded (80-95%), 2 Critical (>95%).");
    }

    internal static void Register(object endpoint) => s_open.TryAdd(endpoint, 0);

    internal static void Unregister(object endpoint) => s_open.TryRemove(endpoint, out _);

    private static IEnumerable<Measurement<T>> Observe<T>(Func<BufferStats, T> select) where T : struct
    {
        foreach (object endpoint in s_open.Keys)
        {
            BufferStats stats;
            string role;
            try
            {
                (stats, role) = endpoint switch
                {
                    RingReader reader => (reader.GetStats(), "reader"),
                    RingWriter writer => (writer.GetStats(), "writer"),
                    _ => throw new UnreachableException(),
                };
            }
            catch (ObjectDisposedException)
            {
                continue;
            }
            yield return new Measurement<T>(select(stats),
                new KeyValuePair<string, object?>("zerolane.buffer", stats.Name),
                new KeyValuePair<string, object?>("zerolane.role", role));
        }
    }
}
