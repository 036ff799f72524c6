using System.Numerics;

namespace ZeroLane.Cli.Demo;

/// <summary>
/// Counts values (nanoseconds) in fixed log-linear buckets for percentiles, without allocating after construction.
/// </summary>
/// <remarks>
/// Design: as in HdrHistogram, values below 32 have a bucket each; above that, every power of two is split
/// into 32 equal buckets, so a reported percentile is at most 1/32 (3.1%) above the true value. 1,888
/// buckets cover every non-negative <see cref="long"/>. Not thread-safe: one thread records.
/// </remarks>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int BucketCount = (63 - SubBucketBits + 1) * SubBucketCount;

    private readonly long[] _counts = new long[BucketCount];

    /// <summary>Values recorded.</summary>
    internal long Count { get; private set; }

    /// <summary>The largest value recorded, 0 if none.</summary>
    internal long Max { get; private set; }

    /// <summary>Adds one value; negative values count as 0.</summary>
    internal void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }
        _counts[IndexOf(value)]++;
        Count++;
        if (value > Max)
        {
            Max = value;
        }
    }

    /// <summary>
    /// The value at or below which <paramref name="percent"/>% of the recorded values lie (the upper end of
    /// its bucket, never above <see cref="Max"/>); 0 if nothing was recorded.
    /// </summary>
    internal long Percentile(double percent)
    {
        if (Count == 0)
        {
            return 0;
        }
        long rank = Math.Clamp((long)Math.Ceiling(percent / 100 * Count), 1, Count);
        long seen = 0;
        for (int index = 0; index < _counts.Length; index++)
        {
            seen += _counts[index];
            if (seen >= rank)
            {
                return Math.Min(UpperBoundOf(index), Max);
            }
        }
        return Max;
    }

    /// <summary>Forgets every value.</summary>
    internal void Reset()
    {
        Array.Clear(_counts);
        Count = 0;
        Max = 0;
    }

    internal static int IndexOf(long value)
    {
        if (value < SubBucketCount)
        {
            return (int)value;
        }
        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int subBucket = (int)(value >> (exponent - SubBucketBits)) & (SubBucketCount - 1);
        return (exponent - SubBucketBits + 1) * SubBucketCount + subBucket;
    }

    internal static long UpperBoundOf(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }
        int exponent = index / SubBucketCount + SubBucketBits - 1;
        int subBucket = index % SubBucketCount;
        long lower = (long)(SubBucketCount + subBucket) << (exponent - SubBucketBits);
        return lower + ((1L << (exponent - SubBucketBits)) - 1);
    }
}
