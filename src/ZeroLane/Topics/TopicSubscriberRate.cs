namespace ZeroLane.Topics;

/// <summary>A subscriber's rates on one publisher between two snapshots (<see cref="TopicSnapshot.RatesSince"/>).</summary>
/// <param name="Entry">Its entry in the publisher's segment.</param>
/// <param name="SubscriberId">The subscriber's ID.</param>
/// <param name="Pid">The subscriber's process ID.</param>
/// <param name="SamplesPerSecond">Samples it took from its queue per second.</param>
/// <param name="DroppedPerSecond">Samples the publisher dropped from its queue per second.</param>
public sealed record TopicSubscriberRate(int Entry, ulong SubscriberId, int Pid, double SamplesPerSecond, double DroppedPerSecond);
