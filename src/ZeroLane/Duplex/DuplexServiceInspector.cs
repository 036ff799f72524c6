using System.Diagnostics.CodeAnalysis;
using ZeroLane.Buffers;
using ZeroLane.Posix;

namespace ZeroLane.Duplex;

/// <summary>
/// Looks at duplex services from outside, without joining any: lists every service on the host with its clients (from
/// the names in /dev/shm, PROTOCOL.md 14.6), and removes what dead services and clients left.
/// </summary>
/// <remarks>
/// Design: a listing reads each service file's recorded process and checks it is alive; it takes no lock, so it never gets
/// in a service's way. Only <see cref="Clean"/> changes anything, and only under the locks the owners hold while they live.
/// </remarks>
public static class DuplexServiceInspector
{
    /// <summary>Every duplex service with a file in /dev/shm now (service file, join file or client ring), by name.</summary>
    public static IReadOnlyList<DuplexServiceInfo> List()
    {
        IIpcPlatform platform = IpcPlatform.Current;
        return DuplexServiceNames.FindServices().Select(service => Read(platform, new DuplexServiceNames(service))).ToList();
    }

    /// <summary>Reads service <paramref name="name"/>; false if it has no file in /dev/shm.</summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    public static bool TryGetService(string name, [NotNullWhen(true)] out DuplexServiceInfo? info)
    {
        DuplexServiceNames names = DuplexServiceNames.Create(name);
        info = DuplexServiceNames.FindServices().Contains(name) ? Read(IpcPlatform.Current, names) : null;
        return info is not null;
    }

    /// <summary>
    /// Removes what a dead service or dead clients of service <paramref name="name"/> left (the service file, join files,
    /// client rings whose reader is dead); returns the names removed. Whatever a live process holds stays.
    /// </summary>
    /// <param name="name">The service.</param>
    /// <param name="lockDirectory">The lock directory of the service's rings (default /tmp/zerobuffer).</param>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    public static IReadOnlyList<string> Clean(string name, string? lockDirectory = null) =>
        DuplexServiceCleaner.RemoveStale(IpcPlatform.Current, DuplexServiceNames.Create(name), lockDirectory ?? BufferNames.DefaultLockDirectory);

    private static DuplexServiceInfo Read(IIpcPlatform platform, DuplexServiceNames names)
    {
        (DuplexServiceState state, int pid) = DuplexServiceFile.Read(platform, names.ServicePath);
        var clients = new List<DuplexServiceClientInfo>();
        var admitted = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string channel, int clientPid) in names.FindClientRings())
        {
            admitted.Add(channel);
            clients.Add(new DuplexServiceClientInfo(channel, clientPid, platform.IsAlive(new ProcessIdentity(clientPid, 0)), Joining: false));
        }
        foreach ((string channel, int clientPid) in names.FindJoinFiles())
        {
            if (!admitted.Contains(channel))
            {
                clients.Add(new DuplexServiceClientInfo(channel, clientPid, platform.IsAlive(new ProcessIdentity(clientPid, 0)), Joining: true));
            }
        }
        clients.Sort((a, b) => string.CompareOrdinal(a.Channel, b.Channel));
        return new DuplexServiceInfo(names.Service, pid, state is DuplexServiceState.Alive or DuplexServiceState.Unreadable, clients);
    }
}
