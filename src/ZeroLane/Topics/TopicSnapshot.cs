using System.Diagnostics;

namespace ZeroLane.Topics;

/// <summary>
/// Every topic on the host at one moment (<see cref="TopicInspector.Snapshot"/>), with when it was taken, so that two
/// snapshots give rates (<see cref="RatesSince"/>).
/// </summary>
public sealed record TopicSnapshot
{
    /// <summary>When the snapshot was taken (UTC).</summary>
    public required DateTime TakenAt { get; init; }

    /// <summary>When the snapshot was taken, as a <see cref="Stopwatch.GetTimestamp"/> value (monotonic).</summary>
    public required long Timestamp { get; init; }

    /// <summary>The topics, by name.</summary>
    public required IReadOnlyList<TopicInfo> Topics { get; init; }

    /// <summary>
    /// Per publisher segment present in both snapshots (or continuing, after the publisher grew, a segment present in
    /// <paramref name="earlier"/>): samples published per second between <paramref name="earlier"/> and this one, and per
    /// subscriber entry held by the same subscriber in the same segment in both, samples taken and dropped per second.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="earlier"/> was not taken before this snapshot.</exception>
    public IReadOnlyList<TopicPublisherRate> RatesSince(TopicSnapshot earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        double seconds = Stopwatch.GetElapsedTime(earlier.Timestamp, Timestamp).TotalSeconds;
        if (seconds <= 0)
        {
            throw new ArgumentException("The earlier snapshot must be taken before this one: pass the older snapshot as 'earlier'.", nameof(earlier));
        }
        var before = new Dictionary<string, TopicPublisherInfo>(StringComparer.Ordinal);
        var bySegmentId = new Dictionary<(int Pid, ulong SegmentId), TopicPublisherInfo>();
        foreach (TopicPublisherInfo publisher in earlier.Topics.SelectMany(topic => topic.Publishers))
        {
            before[publisher.Segment] = publisher;
            bySegmentId[(publisher.Pid, publisher.SegmentId)] = publisher;
        }
        var rates = new List<TopicPublisherRate>();
        foreach (TopicInfo topic in Topics)
        {
            foreach (TopicPublisherInfo now in topic.Publishers)
            {
                bool sameSegment = before.TryGetValue(now.Segment, out TopicPublisherInfo? then);
                if (!sameSegment && now.Predecessor != 0)
                {
                    // A publisher that grew counts on in its new segment: its rate runs from the segment it continues.
                    bySegmentId.TryGetValue((now.Pid, now.Predecessor), out then);
                }
                if (then is null || now.State == TopicPublisherState.Unreadable || then.State == TopicPublisherState.Unreadable)
                {
                    continue;
                }
                var subscribers = new List<TopicSubscriberRate>();
                foreach (TopicSubscriberEntryInfo entry in sameSegment ? now.Subscribers : [])
                {
                    TopicSubscriberEntryInfo? previous = then.Subscribers.FirstOrDefault(e => e.Entry == entry.Entry && e.Id == entry.Id && e.Pid == entry.Pid);
                    if (previous is null || entry.Id == 0)
                    {
                        continue;
                    }
                    ulong dropped = Increase(previous.Dropped, entry.Dropped);
                    // The head moves past samples taken and samples dropped alike.
                    ulong taken = Increase(previous.Head, entry.Head);
                    taken = taken > dropped ? taken - dropped : 0;
                    subscribers.Add(new TopicSubscriberRate(entry.Entry, entry.Id, entry.Pid, taken / seconds, dropped / seconds));
                }
                rates.Add(new TopicPublisherRate(topic.Topic, now.Segment, now.Id, Increase(then.SamplesPublished, now.SamplesPublished) / seconds, subscribers));
            }
        }
        return rates;
    }

    /// <summary>How much a counter grew; 0 if it went back (its entry was taken back and reused meanwhile).</summary>
    private static ulong Increase(ulong then, ulong now) => now >= then ? now - then : 0;
}
