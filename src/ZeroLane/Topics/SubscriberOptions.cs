namespace ZeroLane.Topics;

/// <summary>How a subscriber joins its topic.</summary>
public sealed record SubscriberOptions
{
    /// <summary>Samples the subscriber may hold (read and not yet released) at once. Default 4.</summary>
    public int MaxHeld { get; init; } = 4;

    /// <summary>
    /// What a publisher does when this subscriber's queue is full: drop its oldest queued sample (the default: a slow
    /// subscriber never slows the others) or wait, at most the publisher's acknowledge timeout, for this subscriber to take one.
    /// </summary>
    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.DropOldest;

    /// <summary>How the subscriber waits for samples. Default <see cref="WaitStrategy.SpinThenBlock"/>.</summary>
    public WaitStrategy WaitStrategy { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>Permissions of the subscriber's semaphore. Default owner read/write (0600).</summary>
    public UnixFileMode Permissions { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// How often a waiting subscriber looks for new publishers and checks that its publishers still live. Default 100 ms;
    /// a publisher's appearance is also noticed at once through a watch on /dev/shm.
    /// </summary>
    public TimeSpan PeerCheckInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
