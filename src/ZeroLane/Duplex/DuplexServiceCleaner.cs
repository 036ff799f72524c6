using ZeroLane.Buffers;
using ZeroLane.Posix;

namespace ZeroLane.Duplex;

/// <summary>Removes what a duplex service, or clients of it, left behind when they died.</summary>
/// <remarks>
/// A join file is stale when the client process in its name is gone; a service file when the process it records is gone
/// (or it never recorded one) and nobody holds its flock. Both are removed only under their lock
/// (<see cref="FileLock.TryRemoveStale"/>), so a live owner's file is never touched. Client rings are ordinary buffers and
/// go the buffers' way (<see cref="StaleBuffers.TryRemove"/>: under the ring's lock, only if its reader is dead).
/// </remarks>
internal static class DuplexServiceCleaner
{
    /// <summary>Removes the service's stale files and rings; returns the names of the files and rings removed.</summary>
    internal static List<string> RemoveStale(IIpcPlatform platform, DuplexServiceNames names, string lockDirectory)
    {
        var removed = new List<string>();
        if (DuplexServiceFile.Check(platform, names.ServicePath) is DuplexServiceState.Dead or DuplexServiceState.Starting &&
            TryRemoveFile(names.ServicePath))
        {
            removed.Add(Path.GetFileName(names.ServicePath));
        }
        foreach ((string channel, int pid) in names.FindJoinFiles())
        {
            if (RemoveJoinFileIfStale(platform, channel, pid))
            {
                removed.Add(channel);
            }
        }
        foreach ((string channel, _) in names.FindClientRings())
        {
            foreach (string ring in new[] { DuplexNames.Request(channel), DuplexNames.Response(channel) })
            {
                if (RemoveRingIfStale(platform, ring, lockDirectory))
                {
                    removed.Add(ring);
                }
            }
        }
        return removed;
    }

    /// <summary>Removes a client's join file if its process is gone.</summary>
    internal static bool RemoveJoinFileIfStale(IIpcPlatform platform, string channel, int pid) =>
        !platform.IsAlive(new ProcessIdentity(pid, 0)) && TryRemoveFile(DuplexServiceNames.JoinPath(channel));

    /// <summary>Removes a ring whose lock nobody holds and whose reader is dead (a client or a service that died).</summary>
    internal static bool RemoveRingIfStale(IIpcPlatform platform, string ring, string lockDirectory)
    {
        if (!File.Exists(DuplexServiceNames.SharedMemoryPath(ring)) && !File.Exists(Path.Combine(lockDirectory, ring + ".lock")))
        {
            return false;
        }
        try
        {
            return StaleBuffers.TryRemove(platform, BufferNames.Create(ring, lockDirectory));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's ring, or a race with its owner or another cleaner: not ours to judge now.
            return false;
        }
    }

    private static bool TryRemoveFile(string path)
    {
        try
        {
            return FileLock.TryRemoveStale(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
