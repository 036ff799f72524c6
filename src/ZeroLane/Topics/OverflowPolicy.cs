namespace ZeroLane.Topics;

/// <summary>What a publisher does when a subscriber's queue is full (<see cref="SubscriberOptions.Overflow"/>).</summary>
public enum OverflowPolicy
{
    /// <summary>Drop the subscriber's oldest queued sample; the publisher never waits for it.</summary>
    DropOldest = 0,

    /// <summary>Wait for the subscriber to take a sample, at most the publisher's acknowledge timeout; then drop its oldest.</summary>
    BlockPublisher = 1,
}
