using System.Globalization;
using System.Text.Json;

namespace ZeroLane.Nats;

/// <summary>A running gateway as its status file says (<see cref="NatsGatewayInspector"/>).</summary>
public sealed record NatsGatewayInfo
{
    /// <summary>The gateway's process ID.</summary>
    public required int Pid { get; init; }

    /// <summary>True if that process still runs (a gateway killed leaves its file until the next gateway starts).</summary>
    public required bool Alive { get; init; }

    /// <summary>The NATS server the connection carrying its samples is on (host:port), or empty while it reconnects.</summary>
    public string Server { get; init; } = "";

    /// <summary>When the file was last written (once a second while the gateway runs).</summary>
    public DateTime UpdatedUtc { get; init; }

    /// <summary>Its figures at that time.</summary>
    public required NatsGatewayStatistics Statistics { get; init; }
}

/// <summary>
/// The gateways of this host, read from their status files (<c>/dev/shm/zlg.PID.ID</c>, PROTOCOL.md 16.6): each running
/// gateway rewrites its own once a second, so <c>zerolane topics</c> shows what every gateway carries without joining it.
/// </summary>
public static class NatsGatewayInspector
{
    internal const string Directory = "/dev/shm";
    internal const string Prefix = "zlg.";

    /// <summary>Every gateway status file on the host, read now; unreadable ones are left out.</summary>
    public static IReadOnlyList<NatsGatewayInfo> List()
    {
        var gateways = new List<NatsGatewayInfo>();
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*"))
        {
            if (TryRead(path) is { } info)
            {
                gateways.Add(info);
            }
        }
        return gateways.OrderBy(g => g.Statistics.Name, StringComparer.Ordinal).ThenBy(g => g.Pid).ToArray();
    }

    /// <summary>The status file of a gateway of process <paramref name="pid"/> with ID <paramref name="id"/>.</summary>
    internal static string PathOf(int pid, ulong id) => Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{pid}.{id:x16}"));

    /// <summary>Writes the status file of <paramref name="gateway"/>: a new file renamed over the old one, owner-only (0600).</summary>
    internal static void Write(NatsGateway gateway, string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("ZeroLane runs on Linux only.");
        }
        NatsGatewayStatistics s = gateway.Statistics;
        string temporary = path + ".new";
        // Created anew (O_EXCL): a file or symlink planted at the temporary name is removed, never written through.
        File.Delete(temporary);
        using (var file = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var json = new Utf8JsonWriter(file))
        {
            json.WriteStartObject();
            json.WriteNumber("version", 1);
            json.WriteString("name", s.Name);
            json.WriteString("id", s.GatewayId.ToString("x16", CultureInfo.InvariantCulture));
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteString("server", gateway.ServerAddress);
            json.WriteString("updated", DateTime.UtcNow);
            json.WriteNumber("samplesSent", s.SamplesSent);
            json.WriteNumber("bytesSent", s.BytesSent);
            json.WriteNumber("samplesReceived", s.SamplesReceived);
            json.WriteNumber("bytesReceived", s.BytesReceived);
            json.WriteNumber("samplesDroppedLocally", s.SamplesDroppedLocally);
            json.WriteNumber("samplesLost", s.SamplesLost);
            json.WriteNumber("samplesWithoutRoom", s.SamplesWithoutRoom);
            json.WriteNumber("messagesRejected", s.MessagesRejected);
            json.WriteNumber("sendFailures", s.SendFailures);
            json.WriteNumber("reconnects", s.Reconnects);
            json.WriteStartArray("exported");
            foreach (string topic in s.ExportedTopics)
            {
                json.WriteStringValue(topic);
            }
            json.WriteEndArray();
            json.WriteStartArray("imported");
            foreach (string topic in s.ImportedTopics)
            {
                json.WriteStringValue(topic);
            }
            json.WriteEndArray();
            if (s.LastError is { } error)
            {
                json.WriteString("lastError", error);
            }
            json.WriteEndObject();
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes the status files of gateways whose process is gone.</summary>
    internal static void RemoveStale()
    {
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*"))
        {
            if (PidIn(path) is int pid && !IsAlive(pid))
            {
                try
                {
                    File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another user's, or gone already.
                }
            }
        }
    }

    private static NatsGatewayInfo? TryRead(string path)
    {
        if (PidIn(path) is not int pid || path.EndsWith(".new", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = document.RootElement;
            long Number(string name) => root.TryGetProperty(name, out JsonElement value) && value.TryGetInt64(out long n) ? n : 0;
            string[] Topics(string name) => root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Array
                ? value.EnumerateArray().Select(t => t.GetString() ?? "").ToArray() : [];
            return new NatsGatewayInfo
            {
                Pid = pid,
                Alive = IsAlive(pid),
                Server = root.TryGetProperty("server", out JsonElement server) ? server.GetString() ?? "" : "",
                UpdatedUtc = root.TryGetProperty("updated", out JsonElement updated) && updated.TryGetDateTime(out DateTime at) ? at : default,
                Statistics = new NatsGatewayStatistics
                {
                    Name = root.TryGetProperty("name", out JsonElement name) ? name.GetString() ?? "" : "",
                    GatewayId = ulong.TryParse(root.TryGetProperty("id", out JsonElement id) ? id.GetString() : null, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong parsed) ? parsed : 0,
                    SamplesSent = Number("samplesSent"),
                    BytesSent = Number("bytesSent"),
                    SamplesReceived = Number("samplesReceived"),
                    BytesReceived = Number("bytesReceived"),
                    SamplesDroppedLocally = Number("samplesDroppedLocally"),
                    SamplesLost = Number("samplesLost"),
                    SamplesWithoutRoom = Number("samplesWithoutRoom"),
                    MessagesRejected = Number("messagesRejected"),
                    SendFailures = Number("sendFailures"),
                    Reconnects = Number("reconnects"),
                    ExportedTopics = Topics("exported"),
                    ImportedTopics = Topics("imported"),
                    LastError = root.TryGetProperty("lastError", out JsonElement error) ? error.GetString() : null,
                },
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // Being replaced, another user's, or not ours.
            return null;
        }
    }

    private static int? PidIn(string path)
    {
        string[] parts = Path.GetFileName(path).Split('.');
        return parts.Length >= 3 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;
    }

    private static bool IsAlive(int pid) => System.IO.Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
}
