namespace ZeroLane.Topics;

/// <summary>Where a publisher's segment stands, as <see cref="TopicInspector"/> read it.</summary>
public enum TopicPublisherState
{
    /// <summary>The publisher is still creating its segment: nothing else of it can be read yet.</summary>
    Creating = 0,

    /// <summary>The publisher is there (or was, if its process died) and publishing.</summary>
    Open = 1,

    /// <summary>The publisher disposed it: nothing more will be published; subscribers read what is queued.</summary>
    Closed = 2,

    /// <summary>The segment could not be read as a topic segment (corrupt, foreign, or of another version): see <see cref="TopicPublisherInfo.Error"/>.</summary>
    Unreadable = 3,
}
