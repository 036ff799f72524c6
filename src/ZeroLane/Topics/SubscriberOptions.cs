namespace ZeroLane.Topics;

/// <summary>How a subscriber joins its topic.</summary>
public sealed record SubscriberOptions
{
    /// <summary>Samples the subscriber may hold (read and not yet released) at once. Default 4.</summary>
    public int MaxHeld { get; init; } = 4;

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
