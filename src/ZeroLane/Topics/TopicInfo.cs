namespace ZeroLane.Topics;

/// <summary>A topic as <see cref="TopicInspector"/> found it in /dev/shm: its publishers and its subscriber processes.</summary>
public sealed record TopicInfo
{
    /// <summary>The topic's name.</summary>
    public required string Topic { get; init; }

    /// <summary>Its publishers' segments (open, closed, of dead publishers, or unreadable), by process ID then ID.</summary>
    public required IReadOnlyList<TopicPublisherInfo> Publishers { get; init; }

    /// <summary>Its subscriber processes (joined to a publisher or still waiting for one), by process ID then ID.</summary>
    public required IReadOnlyList<TopicSubscriberInfo> Subscribers { get; init; }
}
