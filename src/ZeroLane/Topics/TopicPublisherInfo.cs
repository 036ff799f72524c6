namespace ZeroLane.Topics;

/// <summary>
/// One publisher of a topic, read from its segment (<c>/dev/shm/zlt.TOPIC.p.PID.ID</c>) without joining, by
/// <see cref="TopicInspector"/>. When the segment cannot be read, <see cref="State"/> is
/// <see cref="TopicPublisherState.Unreadable"/>, <see cref="Error"/> says why, and the figures are 0.
/// </summary>
public sealed record TopicPublisherInfo
{
    /// <summary>The segment's shared memory name, <c>zlt.TOPIC.p.PID.ID</c>.</summary>
    public required string Segment { get; init; }

    /// <summary>The publisher's process ID (from the segment's name).</summary>
    public required int Pid { get; init; }

    /// <summary>
    /// The publisher's ID: what subscribers see as a sample's publisher ID. Read from the header, it is the same in every
    /// segment of a publisher that grew; when the header cannot be read, the segment's ID stands in for it.
    /// </summary>
    public required ulong Id { get; init; }

    /// <summary>The segment's ID (from its name): the publisher's ID for its first segment, a new one for each it grew into.</summary>
    public required ulong SegmentId { get; init; }

    /// <summary>The segment this publisher grew into (its ID), once it has; 0 otherwise. The segment is then closed.</summary>
    public ulong Successor { get; init; }

    /// <summary>The segment this one continues (its ID), for a publisher that grew; 0 for a first segment.</summary>
    public ulong Predecessor { get; init; }

    /// <summary>
    /// True if the publisher's process still runs: the PID and start time its header records. A closed segment records no
    /// process (the publisher left); a dead one's segment stays until the topic's next participant cleans it.
    /// </summary>
    public required bool Alive { get; init; }

    /// <summary>The segment's state.</summary>
    public required TopicPublisherState State { get; init; }

    /// <summary>
    /// True for a gateway's publisher (ZeroLane.Nats): it republishes the samples of <see cref="ForwardedFrom"/>, a
    /// publisher on another host.
    /// </summary>
    public bool Forwarded { get; init; }

    /// <summary>For a forwarded publisher, the ID of the publisher on the other host whose samples it republishes; else 0.</summary>
    public ulong ForwardedFrom { get; init; }

    /// <summary>
    /// For a forwarded publisher, samples of its origin that never arrived whole (gaps in the origin's sequence seen by the
    /// gateway, and chunked samples dropped as incomplete); else 0.
    /// </summary>
    public ulong ForwardLost { get; init; }

    /// <summary>Samples published so far.</summary>
    public ulong SamplesPublished { get; init; }

    /// <summary>Samples a payload writer wrote whole.</summary>
    public ulong FullWrites { get; init; }

    /// <summary>Samples a payload writer updated in place.</summary>
    public ulong ModifiedWrites { get; init; }

    /// <summary>Slots queued for or held by subscribers, or kept for late joiners, now.</summary>
    public int SlotsInUse { get; init; }

    /// <summary>The segment's slots (samples that can exist at once).</summary>
    public int Slots { get; init; }

    /// <summary>The largest sample the publisher takes, in bytes.</summary>
    public long MaxSampleSize { get; init; }

    /// <summary>Samples queued per subscriber at most.</summary>
    public int QueueDepth { get; init; }

    /// <summary>Subscriber entries the segment has.</summary>
    public int MaxSubscribers { get; init; }

    /// <summary>Samples the publisher keeps for late joiners at most (0 = none).</summary>
    public int HistoryCapacity { get; init; }

    /// <summary>Samples it keeps now.</summary>
    public int HistoryKept { get; init; }

    /// <summary>The segment's size in bytes.</summary>
    public long SegmentSize { get; init; }

    /// <summary>Its subscribers, one per claimed entry, by entry index.</summary>
    public IReadOnlyList<TopicSubscriberEntryInfo> Subscribers { get; init; } = [];

    /// <summary>Why the segment, or part of it, could not be read; null when everything read was sane.</summary>
    public string? Error { get; init; }
}
