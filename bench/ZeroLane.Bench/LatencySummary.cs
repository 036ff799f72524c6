namespace ZeroLane.Bench;

/// <summary>Percentiles of one-way latency in nanoseconds (nearest rank).</summary>
internal readonly record struct LatencySummary(long Samples, double P50Ns, double P99Ns, double P999Ns, double MaxNs);
