namespace ZeroLane;

/// <summary>How a reader waits for frames and a writer waits for space: a trade of CPU for latency.</summary>
public enum WaitStrategy
{
    /// <summary>Spin briefly (tens of microseconds), then sleep on the semaphore. The default.</summary>
    SpinThenBlock = 0,

    /// <summary>Sleep on the semaphore at once: least CPU, highest wake-up latency.</summary>
    Blocking = 1,

    /// <summary>Never sleep: lowest latency, one core kept busy while waiting.</summary>
    BusySpin = 2,
}
