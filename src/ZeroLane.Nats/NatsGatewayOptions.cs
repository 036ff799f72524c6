using ZeroLane.Topics;

namespace ZeroLane.Nats;

/// <summary>Options of a <see cref="NatsGateway"/>. Only <see cref="Topics"/> is required.</summary>
public sealed record NatsGatewayOptions
{
    /// <summary>
    /// Patterns of the topics to carry (<see cref="TopicPattern"/>: <c>camera.*</c>, <c>sensors.&gt;</c>, or a plain name).
    /// At least one.
    /// </summary>
    public required IReadOnlyList<string> Topics { get; init; }

    /// <summary>A name for this gateway in logs, metrics and <see cref="NatsGateway.Statistics"/>. Default "gateway".</summary>
    public string Name { get; init; } = "gateway";

    /// <summary>Which way the topics are carried. Default <see cref="GatewayDirection.Both"/>.</summary>
    public GatewayDirection Direction { get; init; } = GatewayDirection.Both;

    /// <summary>
    /// How often the gateway looks at /dev/shm for topics that gained or lost local publishers or subscribers. A topic
    /// starts being carried at most this long after it appears. Default 200 ms.
    /// </summary>
    public TimeSpan DiscoveryInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// What the gateway's subscriber to a local topic does when NATS cannot keep up: <see cref="OverflowPolicy.DropOldest"/>
    /// (the default: local publishers never wait for the network; drops are counted) or
    /// <see cref="OverflowPolicy.BlockPublisher"/> (local publishers wait, up to their acknowledge timeout).
    /// </summary>
    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.DropOldest;

    /// <summary>
    /// The publisher options of the local publishers through which the gateway republishes other hosts' samples (one per
    /// remote publisher). Their slots grow to fit larger samples. Default: <see cref="PublisherOptions"/>'s defaults.
    /// </summary>
    public PublisherOptions ImportOptions { get; init; } = new();

    /// <summary>
    /// Largest sample taken from NATS, in bytes: a message announcing more is dropped before anything is allocated.
    /// Default 256 MiB.
    /// </summary>
    public long MaxSampleSize { get; init; } = 256L << 20;

    /// <summary>
    /// How long a half-received chunked sample may wait for its next chunk before it is dropped (counted lost).
    /// Default 5 s.
    /// </summary>
    public TimeSpan ChunkTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a remote publisher may stay silent before the gateway closes its local publisher (local subscribers then
    /// see that publisher leave). Default 30 s.
    /// </summary>
    public TimeSpan OriginIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Carries samples on a connection of the gateway's own (PROTOCOL.md 16.7) instead of NATS.Net's: it gather-writes each
    /// exported sample from shared memory to the socket (no copy in user space, nothing allocated per sample) and hands each
    /// imported one from its receive buffer to the topic. Used when the gateway makes its connections from a
    /// <see cref="NatsEndpoint"/> and is not <see cref="Durable"/>; otherwise, or when false, samples go through NATS.Net,
    /// which copies each one it sends twice and allocates per sample once its send buffer is full. Default true.
    /// </summary>
    public bool DirectConnection { get; init; } = true;

    /// <summary>
    /// Carries the topics through JetStream instead of core NATS (PROTOCOL.md 16.5): each topic has a stream (created if
    /// missing, <see cref="DurableMaxMessages"/> and <see cref="DurableMaxBytes"/>), samples are published with the
    /// stream's acknowledgement (at least once; duplicates are dropped by sequence on the way in), and each importing
    /// gateway reads through a durable consumer named after <see cref="Name"/>, which goes on where it left off after a
    /// restart. Needs a server with JetStream enabled. Default false.
    /// </summary>
    public bool Durable { get; init; }

    /// <summary>
    /// With <see cref="Durable"/>: how many of the newest kept messages a gateway's new durable consumer starts with, so a
    /// late joiner gets the latest samples at once (a chunked sample counts one per chunk). Default 0: only what comes next.
    /// </summary>
    public int DurableReplay { get; init; }

    /// <summary>With <see cref="Durable"/>: most messages a new topic stream keeps (the oldest go first). Default 100,000.</summary>
    public long DurableMaxMessages { get; init; } = 100_000;

    /// <summary>With <see cref="Durable"/>: most bytes a new topic stream keeps (the oldest go first). Default 1 GiB.</summary>
    public long DurableMaxBytes { get; init; } = 1L << 30;
}
