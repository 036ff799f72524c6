namespace ZeroLane.Tests.Infrastructure;

/// <summary>Measures what a repeated operation allocates on the calling thread once warmed up.</summary>
internal static class SteadyState
{
    /// <summary>
    /// Runs <paramref name="cycle"/> <paramref name="warmup"/> times, then twice <paramref name="measured"/> times, and
    /// returns the bytes allocated on this thread in the cheaper of the two measured windows. A cost per cycle shows in
    /// both windows; a one-time initialisation (a lazy static reached by a periodic check, say) in at most one.
    /// </summary>
    internal static long AllocatedBytes(Action cycle, int warmup, int measured)
    {
        for (int i = 0; i < warmup; i++)
        {
            cycle();
        }
        long allocated = long.MaxValue;
        for (int window = 0; window < 2; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < measured; i++)
            {
                cycle();
            }
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return allocated;
    }
}
