using System.Diagnostics;

namespace ZeroLane.Bench;

/// <summary>
/// Times a peer's measured window and the bytes its thread allocates in it, in two halves. Steady-state
/// allocation per frame is the lower of the two halves' figures: a real per-frame cost shows in both, a
/// one-time allocation (the first semaphore sleep, the first blocking receive of a process) in only one.
/// </summary>
internal struct WindowMeter
{
    private long _started;
    private long _allocatedAtStart;
    private long _allocatedAtHalf;
    private long _framesFirstHalf;

    internal void Start()
    {
        _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        _started = Stopwatch.GetTimestamp();
    }

    internal void Half(long framesFirstHalf)
    {
        _allocatedAtHalf = GC.GetAllocatedBytesForCurrentThread();
        _framesFirstHalf = framesFirstHalf;
    }

    internal readonly PeerReport Stop(long framesSecondHalf, ulong checksum, LatencySummary? latency)
    {
        long elapsed = Stopwatch.GetTimestamp() - _started;
        long allocatedAtEnd = GC.GetAllocatedBytesForCurrentThread();
        long first = _allocatedAtHalf - _allocatedAtStart;
        long second = allocatedAtEnd - _allocatedAtHalf;
        return new PeerReport(
            _framesFirstHalf + framesSecondHalf,
            PeerChannel.TicksToNs(elapsed),
            first + second,
            SteadyPerFrame(first, _framesFirstHalf, second, framesSecondHalf),
            checksum,
            latency);
    }

    private static double SteadyPerFrame(long bytesFirst, long framesFirst, long bytesSecond, long framesSecond)
    {
        double first = framesFirst > 0 ? (double)bytesFirst / framesFirst : double.MaxValue;
        double second = framesSecond > 0 ? (double)bytesSecond / framesSecond : double.MaxValue;
        double lower = Math.Min(first, second);
        return lower == double.MaxValue ? 0 : lower;
    }
}
