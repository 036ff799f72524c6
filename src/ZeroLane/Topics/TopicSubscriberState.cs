namespace ZeroLane.Topics;

/// <summary>Where a subscriber's entry in a publisher's segment stands, as <see cref="TopicInspector"/> read it.</summary>
public enum TopicSubscriberState
{
    /// <summary>Claimed and not yet active: the subscriber is joining (queueing the samples kept for late joiners).</summary>
    Joining = 0,

    /// <summary>The publisher queues every new sample for it.</summary>
    Active = 1,

    /// <summary>The subscriber left; the publisher takes its entry back at its next write.</summary>
    Leaving = 2,

    /// <summary>The entry holds a value this library does not know: see <see cref="TopicSubscriberEntryInfo.Error"/>.</summary>
    Unreadable = 3,
}
