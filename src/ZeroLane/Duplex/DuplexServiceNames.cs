using System.Globalization;
using ZeroLane.Ipc;

namespace ZeroLane.Duplex;

/// <summary>
/// The names of a duplex service's objects, all in /dev/shm and all named after the service, so that clients and
/// inspectors find a service and its clients by listing /dev/shm (no daemon; see PROTOCOL.md 14.6):
/// <list type="bullet">
/// <item>service file <c>/dev/shm/zls.NAME.service</c>: flock'd by the live service, holds its PID and start time;</item>
/// <item>join file <c>/dev/shm/zls.NAME.c.PID.ID</c>: a client asking to join, flock'd by it while it joins;</item>
/// <item>the client's own duplex channel <c>zls.NAME.c.PID.ID</c>, whose rings are <c>zls.NAME.c.PID.ID_request</c>
/// (created by the service) and <c>zls.NAME.c.PID.ID_response</c> (created by the client).</item>
/// </list>
/// PID is the client's process ID in decimal, ID 16 lower-case hexadecimal digits, random and odd.
/// </summary>
internal readonly record struct DuplexServiceNames(string Service)
{
    /// <summary>What a service's name is called in errors.</summary>
    internal const string Kind = "duplex service";

    /// <summary>The prefix of every file of every service.</summary>
    internal const string Prefix = "zls.";

    /// <summary>The suffix of a service file.</summary>
    internal const string ServiceSuffix = ".service";

    private const string DeviceDirectory = "/dev/shm";

    /// <exception cref="InvalidNameException">The name is not allowed, or too long for its clients' ring names.</exception>
    internal static DuplexServiceNames Create(string service)
    {
        ObjectNames.Validate(service, Kind);
        // The longest ring name a client of this service can have (PID of 10 digits) must be a valid buffer name too.
        string longest = $"{Prefix}{service}.c.{int.MaxValue}.{ulong.MaxValue:x16}_response";
        if (!ObjectNames.IsValid(longest))
        {
            int excess = longest.Length - ObjectNames.MaxLength;
            throw new InvalidNameException(service, Kind,
                $"it is {excess} character(s) too long: its clients' ring names (zls.NAME.c.PID.ID_response) must stay within {ObjectNames.MaxLength} characters");
        }
        return new DuplexServiceNames(service);
    }

    /// <summary>The service file, flock'd by the live service.</summary>
    internal string ServicePath => $"{DeviceDirectory}/{Prefix}{Service}{ServiceSuffix}";

    /// <summary>The shm-name prefix of this service's join files and client rings.</summary>
    internal string ClientPrefix => $"{Prefix}{Service}.c.";

    /// <summary>The duplex channel (and join file name) of client <paramref name="pid"/>, <paramref name="id"/>.</summary>
    internal string Channel(int pid, ulong id) => $"{ClientPrefix}{pid}.{id:x16}";

    /// <summary>The join file of a client's channel.</summary>
    internal static string JoinPath(string channel) => $"{DeviceDirectory}/{channel}";

    /// <summary>The file of a ring's shared memory.</summary>
    internal static string SharedMemoryPath(string ring) => $"{DeviceDirectory}/{ring}";

    /// <summary>A random ID for a new client.</summary>
    internal static ulong NewId() => (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>The join files of this service in /dev/shm now: (channel, client PID).</summary>
    internal List<(string Channel, int Pid)> FindJoinFiles() => FindClients(ClientPrefix, suffix: "");

    /// <summary>The request rings of this service's clients in /dev/shm now: (channel, client PID).</summary>
    internal List<(string Channel, int Pid)> FindClientRings() => FindClients(ClientPrefix, suffix: "_request");

    /// <summary>The names of the services that have a file in /dev/shm now: a service file, a join file or a client ring.</summary>
    internal static SortedSet<string> FindServices()
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string file in List(Prefix))
        {
            string? service = null;
            if (file.EndsWith(ServiceSuffix, StringComparison.Ordinal))
            {
                service = file[Prefix.Length..^ServiceSuffix.Length];
            }
            else if (TryParseChannel(file, out string? owner))
            {
                service = owner;
            }
            if (service is not null && ObjectNames.IsValid(service))
            {
                found.Add(service);
            }
        }
        return found;
    }

    /// <summary>
    /// Parses a join file or client ring name, <c>zls.NAME.c.PID.ID</c> optionally followed by <c>_request</c> or
    /// <c>_response</c>, into NAME.
    /// </summary>
    internal static bool TryParseChannel(string file, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? service)
    {
        service = null;
        string channel = file.EndsWith("_request", StringComparison.Ordinal) ? file[..^"_request".Length]
            : file.EndsWith("_response", StringComparison.Ordinal) ? file[..^"_response".Length]
            : file;
        int idDot = channel.LastIndexOf('.');
        int pidDot = idDot > 0 ? channel.LastIndexOf('.', idDot - 1) : -1;
        if (!channel.StartsWith(Prefix, StringComparison.Ordinal) || pidDot < Prefix.Length + 3 ||
            !channel.AsSpan(0, pidDot).EndsWith(".c", StringComparison.Ordinal) ||
            !TryParseClient(channel.AsSpan(pidDot + 1), suffix: "", out _))
        {
            return false;
        }
        service = channel[Prefix.Length..(pidDot - 2)];
        return service.Length > 0;
    }

    /// <summary>Parses <c>PID.ID</c> followed by <paramref name="suffix"/> exactly (the service's own dots are in the prefix).</summary>
    internal static bool TryParseClient(ReadOnlySpan<char> rest, string suffix, out int pid)
    {
        pid = 0;
        if (!rest.EndsWith(suffix, StringComparison.Ordinal))
        {
            return false;
        }
        rest = rest[..^suffix.Length];
        int dot = rest.IndexOf('.');
        if (dot <= 0 || rest.Length - dot - 1 != 16)
        {
            return false;
        }
        return int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0 &&
            ulong.TryParse(rest[(dot + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _) &&
            !rest[(dot + 1)..].ContainsAnyInRange('A', 'Z');
    }

    private static List<(string Channel, int Pid)> FindClients(string prefix, string suffix)
    {
        var found = new List<(string, int)>();
        foreach (string file in List(prefix))
        {
            if (TryParseClient(file.AsSpan(prefix.Length), suffix, out int pid))
            {
                found.Add((file[..^suffix.Length], pid));
            }
        }
        return found;
    }

    private static IEnumerable<string> List(string prefix)
    {
        if (!Directory.Exists(DeviceDirectory))
        {
            yield break;
        }
        foreach (string path in Directory.EnumerateFiles(DeviceDirectory, prefix + "*"))
        {
            string file = Path.GetFileName(path);
            if (file.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return file;
            }
        }
    }
}
