namespace ZeroLane.Topics;

/// <summary>A publisher's rates between two snapshots (<see cref="TopicSnapshot.RatesSince"/>).</summary>
/// <param name="Topic">The topic's name.</param>
/// <param name="Segment">The publisher's segment name.</param>
/// <param name="PublisherId">The publisher's ID.</param>
/// <param name="SamplesPerSecond">Samples published per second.</param>
/// <param name="Subscribers">Per subscriber entry present in both snapshots, its rates.</param>
public sealed record TopicPublisherRate(string Topic, string Segment, ulong PublisherId, double SamplesPerSecond, IReadOnlyList<TopicSubscriberRate> Subscribers);
