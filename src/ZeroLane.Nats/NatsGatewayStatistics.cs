namespace ZeroLane.Nats;

/// <summary>What a <see cref="NatsGateway"/> has carried since it started (<see cref="NatsGateway.Statistics"/>).</summary>
public sealed record NatsGatewayStatistics
{
    /// <summary>The gateway's name.</summary>
    public required string Name { get; init; }

    /// <summary>The gateway's ID (header <c>Zl-Gw</c> of what it sends).</summary>
    public required ulong GatewayId { get; init; }

    /// <summary>Local samples published to NATS (a chunked one counts once).</summary>
    public long SamplesSent { get; init; }

    /// <summary>Bytes of the samples in <see cref="SamplesSent"/>.</summary>
    public long BytesSent { get; init; }

    /// <summary>Samples from other hosts republished locally, whole.</summary>
    public long SamplesReceived { get; init; }

    /// <summary>Payload bytes of every NATS message taken in (chunks included).</summary>
    public long BytesReceived { get; init; }

    /// <summary>Local samples never sent because NATS was slower than the publishers: dropped oldest-first from the gateway's queue.</summary>
    public long SamplesDroppedLocally { get; init; }

    /// <summary>
    /// Samples of other hosts' publishers that never arrived whole: gaps in their sequence numbers, chunked samples missing a
    /// chunk, and those in <see cref="SamplesWithoutRoom"/>. Per remote publisher in <see cref="ZeroLane.Topics.TopicPublisherInfo.ForwardLost"/>.
    /// </summary>
    public long SamplesLost { get; init; }

    /// <summary>Samples that arrived but found every slot of their local publisher held by slow local subscribers.</summary>
    public long SamplesWithoutRoom { get; init; }

    /// <summary>NATS messages on a topic's subject that were not valid samples (see <see cref="LastError"/>).</summary>
    public long MessagesRejected { get; init; }

    /// <summary>
    /// NATS messages ignored because their sample is not newer than one already begun from the same remote publisher
    /// (a duplicate, e.g. a durable redelivery, or a message overtaken by a later one, whose sample was then counted lost).
    /// </summary>
    public long MessagesStale { get; init; }

    /// <summary>Local samples NATS.Net refused to send (e.g. while disconnected with its buffer full).</summary>
    public long SendFailures { get; init; }

    /// <summary>Times the connection carrying the samples was opened again after it was lost.</summary>
    public long Reconnects { get; init; }

    /// <summary>
    /// True when the samples go on the gateway's own connection (<see cref="NatsGatewayOptions.DirectConnection"/>), false
    /// when they go through NATS.Net.
    /// </summary>
    public bool DirectConnection { get; init; }

    /// <summary>Topics exported now (they have local publishers).</summary>
    public IReadOnlyList<string> ExportedTopics { get; init; } = [];

    /// <summary>Topics imported now (they have local subscribers).</summary>
    public IReadOnlyList<string> ImportedTopics { get; init; } = [];

    /// <summary>The last problem met (a rejected message, a topic that cannot be carried, a failed send), or null.</summary>
    public string? LastError { get; init; }
}
