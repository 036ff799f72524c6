namespace ZeroLane.Topics;

/// <summary>One subscriber as a publisher's segment records it (its entry), read by <see cref="TopicInspector"/>.</summary>
public sealed record TopicSubscriberEntryInfo
{
    /// <summary>The entry's index in the publisher's segment (0 to <see cref="TopicPublisherInfo.MaxSubscribers"/> - 1).</summary>
    public required int Entry { get; init; }

    /// <summary>The subscriber's process ID.</summary>
    public required int Pid { get; init; }

    /// <summary>True if that very process still runs (PID and start time).</summary>
    public required bool Alive { get; init; }

    /// <summary>The subscriber's ID (0 while it is joining and has not written it yet).</summary>
    public required ulong Id { get; init; }

    /// <summary>The entry's state.</summary>
    public required TopicSubscriberState State { get; init; }

    /// <summary>Queue position of the next sample the subscriber takes (samples taken or dropped so far).</summary>
    public required ulong Head { get; init; }

    /// <summary>Queue position the publisher queues the next sample at (samples queued so far).</summary>
    public required ulong Tail { get; init; }

    /// <summary>Samples queued and not yet taken, at most <see cref="QueueDepth"/>.</summary>
    public required int Queued { get; init; }

    /// <summary>Samples the queue holds at most (the publisher's queue depth).</summary>
    public required int QueueDepth { get; init; }

    /// <summary>Samples the publisher dropped from this queue (the oldest, when the subscriber fell behind).</summary>
    public required ulong Dropped { get; init; }

    /// <summary>What the publisher does when this queue is full.</summary>
    public required OverflowPolicy Overflow { get; init; }

    /// <summary>
    /// True while the entry waits for its subscriber to take it over after the publisher grew (the subscriber still reads
    /// the queue of the previous segment).
    /// </summary>
    public bool Inherited { get; init; }

    /// <summary>Why part of the entry could not be trusted (a value out of range), or null when every value was sane.</summary>
    public string? Error { get; init; }

    /// <summary>Fraction of the queue in use, 0 to 1.</summary>
    public double QueueFill => QueueDepth == 0 ? 0 : (double)Queued / QueueDepth;
}
