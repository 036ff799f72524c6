using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ZeroLane.Bench;

/// <summary>
/// Every round-trip time of a measurement, in <see cref="Stopwatch"/> ticks, kept in an array allocated
/// (and its pages faulted in) before the measurement, so recording a sample costs one store.
/// </summary>
internal sealed class LatencySamples
{
    private readonly long[] _ticks;
    private int _count;

    internal LatencySamples(int capacity)
    {
        _ticks = new long[Math.Max(1, capacity)];
        // Write every page now, so the first touch of a page does not land inside a measured round trip.
        Array.Fill(_ticks, -1L);
    }

    internal int Count => _count;

    internal bool IsFull => _count == _ticks.Length;

    /// <summary>Records one sample; the caller checks <see cref="IsFull"/> first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Add(long ticks) => _ticks[_count++] = ticks;

    /// <summary>Sorts the samples and reports their percentiles, divided by <paramref name="divisor"/> (2 turns a round trip into one way).</summary>
    internal LatencySummary Summarize(double divisor)
    {
        Span<long> samples = _ticks.AsSpan(0, _count);
        if (samples.IsEmpty)
        {
            return new LatencySummary(0, 0, 0, 0, 0);
        }
        samples.Sort();
        double toNs = 1e9 / Stopwatch.Frequency / divisor;
        return new LatencySummary(
            samples.Length,
            Rank(samples, 0.50) * toNs,
            Rank(samples, 0.99) * toNs,
            Rank(samples, 0.999) * toNs,
            samples[^1] * toNs);
    }

    private static long Rank(ReadOnlySpan<long> sorted, double quantile)
    {
        int index = (int)Math.Ceiling(quantile * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }
}
