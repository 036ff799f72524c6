using System.Buffers;
using System.Text.Json;
using ZeroLane.Buffers;

namespace ZeroLane.Cli.Output;

/// <summary>How <see cref="BufferStats"/> are shown: table cells, a detail block, and one JSON object per buffer.</summary>
internal static class StatsText
{
    /// <summary><c>1234 (alive)</c>, <c>1234 (dead)</c>, or <c>-</c> when no process is recorded.</summary>
    internal static string Peer(int pid, bool alive) => pid == 0 ? "-" : $"{pid} ({(alive ? "alive" : "dead")})";

    /// <summary>One line per field of <paramref name="stats"/>, labels aligned.</summary>
    internal static string Details(BufferStats stats)
    {
        (string Label, string Value)[] lines =
        [
            ("Name", stats.Name),
            ("Payload capacity", $"{Units.Bytes(stats.PayloadCapacity)} ({stats.PayloadCapacity} bytes)"),
            ("Free bytes", $"{Units.Bytes(stats.FreeBytes)} ({stats.FreeBytes} bytes)"),
            ("Utilization", $"{Units.Percent(stats.Utilization)} ({stats.Health})"),
            ("Metadata capacity", $"{stats.MetadataCapacity} bytes"),
            ("Metadata length", stats.MetadataLength == 0 ? "none written" : $"{stats.MetadataLength} bytes"),
            ("Frames written", Units.Count(stats.FramesWritten)),
            ("Frames read", Units.Count(stats.FramesRead)),
            ("Writer", Peer(stats.WriterPid, stats.WriterAlive)),
            ("Reader", Peer(stats.ReaderPid, stats.ReaderAlive) + (stats.ZeroLaneReader ? ", ZeroLane reader" : stats.ReaderPid != 0 ? ", other implementation" : "")),
        ];
        int width = lines.Max(l => l.Label.Length) + 1;
        return string.Concat(lines.Select(l => (l.Label + ":").PadRight(width + 1) + l.Value + "\n"));
    }

    /// <summary>The stats as one line of JSON (no trailing newline).</summary>
    internal static string Json(BufferStats stats)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", stats.Name);
            json.WriteNumber("payloadCapacity", stats.PayloadCapacity);
            json.WriteNumber("freeBytes", stats.FreeBytes);
            json.WriteNumber("utilization", Math.Round(stats.Utilization, 6));
            json.WriteString("health", stats.Health.ToString());
            json.WriteNumber("metadataCapacity", stats.MetadataCapacity);
            json.WriteNumber("metadataLength", stats.MetadataLength);
            json.WriteNumber("framesWritten", stats.FramesWritten);
            json.WriteNumber("framesRead", stats.FramesRead);
            json.WriteNumber("writerPid", stats.WriterPid);
            json.WriteBoolean("writerAlive", stats.WriterAlive);
            json.WriteNumber("readerPid", stats.ReaderPid);
            json.WriteBoolean("readerAlive", stats.ReaderAlive);
            json.WriteBoolean("zeroLaneReader", stats.ZeroLaneReader);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
