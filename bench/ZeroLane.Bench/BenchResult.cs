using System.Text;
using System.Text.Json;

namespace ZeroLane.Bench;

/// <summary>
/// One line of the bench's output. <c>--json</c> prints it as one JSON object with exactly the documented
/// fields (null where a figure does not apply), plus the per-side allocation figures.
/// </summary>
/// <remarks>
/// In latency mode <see cref="FramesPerSec"/> counts round trips per second (each moves one frame each way)
/// and the percentiles are one-way latency, half of each timed round trip. In round-trip mode (duplex channels) frames/s
/// counts calls and the percentiles are the WHOLE round trip of a call. In throughput rows of the duplex part frames/s
/// counts requests answered, with <see cref="InFlight"/> requests in flight. <see cref="AllocatedBytesPerFrame"/>
/// is the sum of both sides' steady-state allocation per frame (see <see cref="WindowMeter"/>); the sides are
/// reported separately too: sender = writer or initiator, receiver = reader or echo.
/// </remarks>
internal sealed record BenchResult
{
    internal const string ZeroLane = "zerolane";
    internal const string ZeroLaneMessage = "zerolane-message";
    internal const string UnixSocket = "unix-socket";
    internal const string ZeroLaneTopic = "zerolane-topic";
    internal const string MemoryCopy = "memcpy";
    internal const string CacheLine = "cacheline";
    internal const string Throughput = "throughput";
    internal const string Latency = "latency";
    internal const string RoundTrip = "round-trip";
    internal const string FullWriter = "full";
    internal const string ModifiedWriter = "modified";

    /// <summary>
    /// A spread of the headline figure above this share of its median marks the row unsteady: its runs disagree by more
    /// than any comparison in the table should rest on. (A cross-core placement change on a VM moves figures 2x to 4x.)
    /// </summary>
    internal const double UnsteadySpreadPercent = 25;

    public required string Transport { get; init; }
    public required string Mode { get; init; }
    public string? Wait { get; init; }
    public required long FrameBytes { get; init; }
    public double? FramesPerSec { get; init; }
    public double? BytesPerSec { get; init; }
    public double? P50Ns { get; init; }
    public double? P99Ns { get; init; }
    public double? P999Ns { get; init; }
    public double? MaxNs { get; init; }
    public double? AllocatedBytesPerFrame { get; init; }
    public double? SenderAllocatedBytesPerFrame { get; init; }
    public double? ReceiverAllocatedBytesPerFrame { get; init; }

    /// <summary>Topic rows: subscriber processes the publisher sent every sample to (rates are per subscriber). Null elsewhere.</summary>
    public int? Subscribers { get; init; }

    /// <summary>Topic payload-writer rows: <c>full</c> (every send through WriteFull) or <c>modified</c> (WriteModified). Null elsewhere.</summary>
    public string? Writer { get; init; }

    /// <summary>Duplex pipelining rows: requests the client kept in flight. Null elsewhere.</summary>
    public int? InFlight { get; init; }

    /// <summary>The CPUs the two peers were pinned to, "0,1" (null: the OS placed them).</summary>
    public string? Cpus { get; init; }

    /// <summary>Runs the figures are the median of (1: measured once).</summary>
    public int Runs { get; init; } = 1;

    /// <summary>
    /// For a pinned busy-spin pair: the one-way p50 of a cache line bounced between its two CPUs just before the run (the
    /// median over the runs). Busy-spin figures follow it; on a virtual machine it moves between levels the host sets.
    /// </summary>
    public double? CrossCoreNs { get; init; }

    /// <summary>Lowest and highest frames/s of the runs (null when measured once).</summary>
    public double? FramesPerSecMin { get; init; }

    /// <summary>Highest frames/s of the runs.</summary>
    public double? FramesPerSecMax { get; init; }

    /// <summary>Lowest p50 of the runs (null for rows without latency, or measured once).</summary>
    public double? P50NsMin { get; init; }

    /// <summary>Highest p50 of the runs.</summary>
    public double? P50NsMax { get; init; }

    /// <summary>
    /// The headline figure: p50 for rows with latency percentiles, frames/s for the others. The spread and the unsteady mark
    /// are about it.
    /// </summary>
    internal (double? Median, double? Min, double? Max) Headline => P50Ns is not null ? (P50Ns, P50NsMin, P50NsMax) : (FramesPerSec, FramesPerSecMin, FramesPerSecMax);

    /// <summary>(highest - lowest) / median of the headline figure over the runs, in percent; null when measured once.</summary>
    public double? SpreadPercent => Headline is (double median, double min, double max) && median > 0 ? 100 * (max - min) / median : null;

    /// <summary>True when <see cref="SpreadPercent"/> is above <see cref="UnsteadySpreadPercent"/>: do not judge by this row.</summary>
    public bool Unsteady => SpreadPercent > UnsteadySpreadPercent;

    /// <summary>
    /// Several runs of one measurement as one row: the median of every figure (bytes/s stays frames/s times the size),
    /// the lowest and highest frames/s and p50, and the highest allocation any run saw.
    /// </summary>
    internal static BenchResult Combine(IReadOnlyList<BenchResult> runs)
    {
        if (runs.Count == 1)
        {
            return runs[0];
        }
        BenchResult first = runs[0];
        double? framesPerSec = Median(runs.Select(r => r.FramesPerSec));
        return first with
        {
            Runs = runs.Count,
            FramesPerSec = framesPerSec,
            BytesPerSec = first.BytesPerSec is null ? null : framesPerSec * first.FrameBytes,
            P50Ns = Median(runs.Select(r => r.P50Ns)),
            P99Ns = Median(runs.Select(r => r.P99Ns)),
            P999Ns = Median(runs.Select(r => r.P999Ns)),
            MaxNs = Median(runs.Select(r => r.MaxNs)),
            AllocatedBytesPerFrame = runs.Max(r => r.AllocatedBytesPerFrame),
            SenderAllocatedBytesPerFrame = runs.Max(r => r.SenderAllocatedBytesPerFrame),
            ReceiverAllocatedBytesPerFrame = runs.Max(r => r.ReceiverAllocatedBytesPerFrame),
            FramesPerSecMin = runs.Min(r => r.FramesPerSec),
            FramesPerSecMax = runs.Max(r => r.FramesPerSec),
            P50NsMin = runs.Min(r => r.P50Ns),
            P50NsMax = runs.Max(r => r.P50Ns),
            CrossCoreNs = Median(runs.Select(r => r.CrossCoreNs)),
        };
    }

    /// <summary>The median (of an even count: the mean of the middle two); null if any value is null.</summary>
    internal static double? Median(IEnumerable<double?> values)
    {
        double?[] all = values.ToArray();
        if (all.Length == 0 || all.Any(value => value is null))
        {
            return null;
        }
        double[] sorted = all.Select(value => value!.Value).Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>A transfer measured by two peers: rates and latency from the measuring side, allocation from both.</summary>
    internal static BenchResult FromPeers(string transport, string mode, string? wait, int frameBytes, PeerReport measured, PeerReport sender, PeerReport receiver)
    {
        double seconds = measured.ElapsedNs / 1e9;
        double framesPerSec = seconds > 0 ? measured.Frames / seconds : 0;
        return new BenchResult
        {
            Transport = transport,
            Mode = mode,
            Wait = wait,
            FrameBytes = frameBytes,
            FramesPerSec = framesPerSec,
            BytesPerSec = framesPerSec * frameBytes,
            P50Ns = measured.Latency?.P50Ns,
            P99Ns = measured.Latency?.P99Ns,
            P999Ns = measured.Latency?.P999Ns,
            MaxNs = measured.Latency?.MaxNs,
            AllocatedBytesPerFrame = sender.AllocatedBytesPerFrame + receiver.AllocatedBytesPerFrame,
            SenderAllocatedBytesPerFrame = sender.AllocatedBytesPerFrame,
            ReceiverAllocatedBytesPerFrame = receiver.AllocatedBytesPerFrame,
        };
    }

    internal string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("transport", Transport);
            json.WriteString("mode", Mode);
            WriteOrNull(json, "wait", Wait);
            json.WriteNumber("frame_bytes", FrameBytes);
            WriteOrNull(json, "frames_per_sec", FramesPerSec);
            WriteOrNull(json, "bytes_per_sec", BytesPerSec);
            WriteOrNull(json, "p50_ns", P50Ns);
            WriteOrNull(json, "p99_ns", P99Ns);
            WriteOrNull(json, "p999_ns", P999Ns);
            WriteOrNull(json, "max_ns", MaxNs);
            WriteOrNull(json, "allocated_bytes_per_frame", AllocatedBytesPerFrame);
            WriteOrNull(json, "sender_allocated_bytes_per_frame", SenderAllocatedBytesPerFrame);
            WriteOrNull(json, "receiver_allocated_bytes_per_frame", ReceiverAllocatedBytesPerFrame);
            WriteOrNull(json, "subscribers", Subscribers);
            WriteOrNull(json, "writer", Writer);
            WriteOrNull(json, "in_flight", InFlight);
            WriteOrNull(json, "cpus", Cpus);
            json.WriteNumber("runs", Runs);
            WriteOrNull(json, "frames_per_sec_min", FramesPerSecMin);
            WriteOrNull(json, "frames_per_sec_max", FramesPerSecMax);
            WriteOrNull(json, "p50_ns_min", P50NsMin);
            WriteOrNull(json, "p50_ns_max", P50NsMax);
            WriteOrNull(json, "spread_percent", SpreadPercent);
            json.WriteBoolean("unsteady", Unsteady);
            WriteOrNull(json, "cross_core_ns", CrossCoreNs);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, int? value)
    {
        if (value is int number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, double? value)
    {
        if (value is double number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
