namespace ZeroLane.Nats;

/// <summary>Options of a <see cref="NatsRingBridge"/>. Every one has a safe default.</summary>
public sealed record NatsRingBridgeOptions
{
    /// <summary>
    /// Receiving end: how long a frame arriving while the local ring is full may wait for room before it is dropped
    /// (counted in <see cref="NatsRingBridgeStatistics.FramesWithoutRoom"/>). The wait holds up NATS.Net's read loop, so it
    /// is bounded: a longer wait loses fewer frames to a slow reader, but lets the server's queue for this connection grow
    /// (a server that calls the connection a slow consumer drops it; NATS.Net reconnects, and what was lost shows as a gap).
    /// Default 1 s; zero drops at once.
    /// </summary>
    public TimeSpan RingFullTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Receiving end: how long a half-received chunked frame may wait for its next chunk before it is dropped (counted lost)
    /// and its loan of the local ring given back. Default 5 s.
    /// </summary>
    public TimeSpan ChunkTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Both ends: how often the ring is looked at while nothing happens (metadata asked for, a reader gone). Default 100 ms.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    internal void Validate()
    {
        if (RingFullTimeout < TimeSpan.Zero || RingFullTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(nameof(RingFullTimeout), RingFullTimeout, "RingFullTimeout must be 0 to 10 minutes: it holds up NATS.Net's read loop.");
        }
        if (ChunkTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkTimeout), ChunkTimeout, "ChunkTimeout must be positive.");
        }
        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "PollInterval must be more than 0 and at most 10 s.");
        }
    }
}
