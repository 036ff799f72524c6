namespace ZeroLane.Nats;

/// <summary>What a <see cref="NatsRingBridge"/> has carried so far.</summary>
public sealed record NatsRingBridgeStatistics
{
    /// <summary>Sending end: frames taken from the local ring and handed to NATS. Receiving end: frames written whole into the local ring.</summary>
    public long Frames { get; init; }

    /// <summary>The payload bytes of <see cref="Frames"/>.</summary>
    public long Bytes { get; init; }

    /// <summary>
    /// Receiving end: frames of the sender that never reached the local ring: gaps in its sequence numbers (lost by core
    /// NATS, which delivers at most once), frames torn by a lost chunk, refused ones, and those with no room (below). At
    /// the end of the stream this includes frames lost after the last one received. Sending end: frames NATS.Net refused
    /// to send (e.g. while disconnected with its buffer full).
    /// </summary>
    public long FramesLost { get; init; }

    /// <summary>Receiving end, of <see cref="FramesLost"/>: frames dropped because the local ring stayed full for <see cref="NatsRingBridgeOptions.RingFullTimeout"/>.</summary>
    public long FramesWithoutRoom { get; init; }

    /// <summary>Receiving end: messages on the subject that were not a ring bridge's (a plain NATS publisher's, malformed, too large for the ring).</summary>
    public long MessagesRejected { get; init; }

    /// <summary>True once the ring's metadata was sent (sending end) or written into the local ring (receiving end).</summary>
    public bool MetadataCarried { get; init; }

    /// <summary>True once the stream ended: the near writer disconnected and the end was sent (sending end) or received (receiving end).</summary>
    public bool Ended { get; init; }

    /// <summary>The last problem met, in one line, or null.</summary>
    public string? LastError { get; init; }
}
