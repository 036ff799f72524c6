namespace ZeroLane.Topics;

/// <summary>How a publisher sets up its memory (each publisher of a topic has its own).</summary>
public sealed record PublisherOptions
{
    /// <summary>The largest sample, in bytes: each slot's size (rounded up to 64). Default 1 MiB.</summary>
    public int MaxSampleSize { get; init; } = 1 << 20;

    /// <summary>
    /// Slots: samples that can exist at once, queued for or held by subscribers, plus the one being written. Default 8.
    /// With subscribers that keep up, two are enough; more let slow subscribers fall behind without dropping.
    /// </summary>
    public int Slots { get; init; } = 8;

    /// <summary>Most subscribers at once (1 to 63). Default 16.</summary>
    public int MaxSubscribers { get; init; } = 16;

    /// <summary>Samples queued per subscriber before its oldest is dropped. Default 4.</summary>
    public int QueueDepth { get; init; } = 4;

    /// <summary>
    /// How long a write waits for a free slot when every slot is held by subscribers (queued samples are dropped first):
    /// the acknowledge timeout. Default 1 second; a write that times out reports <see cref="WriteStatus.TimedOut"/>.
    /// </summary>
    public TimeSpan AcknowledgeTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How the publisher waits for a free slot. Default <see cref="WaitStrategy.SpinThenBlock"/>.</summary>
    public WaitStrategy WaitStrategy { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>Permissions of the segment and semaphore. Default owner read/write (0600).</summary>
    public UnixFileMode Permissions { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>How often the publisher checks that its subscribers still live (a dead one's samples come back then). Default 100 ms.</summary>
    public TimeSpan PeerCheckInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
