namespace ZeroLane.Topics;

/// <summary>
/// A subscriber process of a topic, found by its semaphore in /dev/shm (<c>sem.zlt.TOPIC.s.PID.ID</c>): every subscriber
/// has one, whether or not any publisher is there for it to join.
/// </summary>
public sealed record TopicSubscriberInfo
{
    /// <summary>The subscriber's process ID (from the semaphore's name).</summary>
    public required int Pid { get; init; }

    /// <summary>The subscriber's ID (from the semaphore's name).</summary>
    public required ulong Id { get; init; }

    /// <summary>True if a process with that PID runs (the name records no start time).</summary>
    public required bool Alive { get; init; }
}
