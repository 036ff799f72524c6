namespace ZeroLane.Topics;

/// <summary>How a publisher sets up its memory (each publisher of a topic has its own).</summary>
public sealed record PublisherOptions
{
    /// <summary>
    /// The largest sample at first, in bytes: each slot's size (rounded up to 64). Default 1 MiB. A larger sample makes the
    /// publisher grow (see <see cref="AllowGrowth"/>).
    /// </summary>
    public int MaxSampleSize { get; init; } = 1 << 20;

    /// <summary>
    /// Whether a sample larger than the slots moves the publisher to new shared memory with slots at least twice as large
    /// (up to 1 GiB), without losing, tearing or repeating a sample for any subscriber. Default true; when false such a
    /// sample throws <see cref="FrameTooLargeException"/>.
    /// </summary>
    public bool AllowGrowth { get; init; } = true;

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

    /// <summary>
    /// Samples kept for subscribers that join later (0 to 26): a late joiner reads the newest <c>History</c> samples first.
    /// Kept samples pin their slots (so <see cref="Slots"/> must exceed it), and the previous sample, being kept, is never
    /// updated in place: with history, payload writers always write whole. A joiner holds the kept samples while it reads
    /// them, so allow about <c>2 × History + QueueDepth</c> slots for joiners not to make the writer wait. Default 0.
    /// </summary>
    public int History { get; init; }

    /// <summary>How the publisher waits for a free slot. Default <see cref="WaitStrategy.SpinThenBlock"/>.</summary>
    public WaitStrategy WaitStrategy { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>Permissions of the segment and semaphore. Default owner read/write (0600).</summary>
    public UnixFileMode Permissions { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>How often the publisher checks that its subscribers still live (a dead one's samples come back then). Default 100 ms.</summary>
    public TimeSpan PeerCheckInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Non-zero for a gateway's publisher (ZeroLane.Nats): the ID of the publisher on another host whose samples it
    /// republishes. Its segments are then flagged forwarded (PROTOCOL.md 13.2), which other gateways never export.
    /// </summary>
    internal ulong ForwardedFrom { get; init; }
}
