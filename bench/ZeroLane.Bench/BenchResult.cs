using System.Text;
using System.Text.Json;

namespace ZeroLane.Bench;

/// <summary>
/// One line of the bench's output. <c>--json</c> prints it as one JSON object with exactly the documented
/// fields (null where a figure does not apply), plus the per-side allocation figures.
/// </summary>
/// <remarks>
/// In latency mode <see cref="FramesPerSec"/> counts round trips per second (each moves one frame each way)
/// and the percentiles are one-way latency, half of each timed round trip. <see cref="AllocatedBytesPerFrame"/>
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
    internal const string FullWriter = "full";
    internal const string ModifiedWriter = "modified";

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
