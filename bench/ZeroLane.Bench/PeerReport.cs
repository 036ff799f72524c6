using System.Text;
using System.Text.Json;

namespace ZeroLane.Bench;

/// <summary>
/// What a bench peer process measured in its window, sent to the parent as one JSON line on its stdout.
/// </summary>
/// <param name="Frames">Data frames (or round trips) in the measured window.</param>
/// <param name="ElapsedNs">Length of the measured window.</param>
/// <param name="AllocatedBytes">Bytes the measuring thread allocated in the window.</param>
/// <param name="AllocatedBytesPerFrame">Steady-state allocation per frame (see <see cref="WindowMeter"/>).</param>
/// <param name="Checksum">Sum of the touched words (kept so the reads are not optimised away).</param>
/// <param name="Latency">One-way latency percentiles, for the side that timed round trips.</param>
/// <param name="Dropped">Topic subscribers: samples the publisher dropped from this subscriber's queue (0 elsewhere).</param>
/// <param name="FullWrites">Topic publishers: samples written whole by the payload writer (WriteFull), warm-up included.</param>
/// <param name="ModifiedWrites">Topic publishers: samples written by updating the previous one in place (WriteModified), warm-up included.</param>
/// <param name="WriterNsPerSend">Topic publishers with a payload writer: time spent in WriteFull/WriteModified per send in the window.</param>
internal sealed record PeerReport(
    long Frames, long ElapsedNs, long AllocatedBytes, double AllocatedBytesPerFrame, ulong Checksum, LatencySummary? Latency,
    long Dropped = 0, long FullWrites = 0, long ModifiedWrites = 0, double WriterNsPerSend = 0)
{
    internal string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("frames", Frames);
            json.WriteNumber("elapsed_ns", ElapsedNs);
            json.WriteNumber("allocated_bytes", AllocatedBytes);
            json.WriteNumber("allocated_bytes_per_frame", AllocatedBytesPerFrame);
            json.WriteNumber("checksum", Checksum);
            json.WriteNumber("dropped", Dropped);
            json.WriteNumber("full_writes", FullWrites);
            json.WriteNumber("modified_writes", ModifiedWrites);
            json.WriteNumber("writer_ns_per_send", WriterNsPerSend);
            if (Latency is LatencySummary latency)
            {
                json.WriteNumber("samples", latency.Samples);
                json.WriteNumber("p50_ns", latency.P50Ns);
                json.WriteNumber("p99_ns", latency.P99Ns);
                json.WriteNumber("p999_ns", latency.P999Ns);
                json.WriteNumber("max_ns", latency.MaxNs);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static PeerReport Parse(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        JsonElement root = document.RootElement;
        LatencySummary? latency = root.TryGetProperty("p50_ns", out JsonElement p50)
            ? new LatencySummary(
                root.GetProperty("samples").GetInt64(),
                p50.GetDouble(),
                root.GetProperty("p99_ns").GetDouble(),
                root.GetProperty("p999_ns").GetDouble(),
                root.GetProperty("max_ns").GetDouble())
            : null;
        return new PeerReport(
            root.GetProperty("frames").GetInt64(),
            root.GetProperty("elapsed_ns").GetInt64(),
            root.GetProperty("allocated_bytes").GetInt64(),
            root.GetProperty("allocated_bytes_per_frame").GetDouble(),
            root.GetProperty("checksum").GetUInt64(),
            latency,
            Optional(root, "dropped"),
            Optional(root, "full_writes"),
            Optional(root, "modified_writes"),
            root.TryGetProperty("writer_ns_per_send", out JsonElement writerNs) ? writerNs.GetDouble() : 0);
    }

    /// <summary>A count only some peers report (the iceoryx peer, in C, reports none of them).</summary>
    private static long Optional(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) ? value.GetInt64() : 0;
}
