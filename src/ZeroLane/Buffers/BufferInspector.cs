using ZeroLane.Posix;

namespace ZeroLane.Buffers;

/// <summary>
/// Looks at buffers from outside: lists every ZeroBuffer-protocol buffer on the host, reads one's figures
/// without attaching, and removes buffers whose reader is dead.
/// </summary>
public static class BufferInspector
{
    private const string SharedMemoryDirectory = "/dev/shm";

    /// <summary>Figures of every ZeroBuffer v1 buffer in /dev/shm that this user can read, by name.</summary>
    public static IReadOnlyList<BufferStats> List()
    {
        var result = new List<BufferStats>();
        if (!Directory.Exists(SharedMemoryDirectory))
        {
            return result;
        }
        foreach (string path in Directory.EnumerateFiles(SharedMemoryDirectory))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith("sem.", StringComparison.Ordinal) || !BufferNames.IsValid(name))
            {
                continue;
            }
            if (TryGetStats(name) is { } stats)
            {
                result.Add(stats);
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>Figures of the buffer, or null if there is no readable ZeroBuffer v1 buffer of that name.</summary>
    /// <exception cref="InvalidBufferNameException">The name is not allowed.</exception>
    public static BufferStats? TryGetStats(string name)
    {
        BufferNames.Validate(name);
        IIpcPlatform platform = IpcPlatform.Current;
        SharedMemory? memory;
        try
        {
            memory = platform.OpenSharedMemory(name, writable: false);
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        using (memory)
        {
            if (memory is null || memory.Length < OiebLayout.Size)
            {
                return null;
            }
            using var region = new MappedRegion(memory.Mapping);
            if (region.ReadUInt32Acquire(OiebLayout.OiebSize) != OiebLayout.Size || region.ReadByte(OiebLayout.VersionMajor) != OiebLayout.ProtocolMajor)
            {
                return null;
            }
            return BufferStats.Read(name, region, platform);
        }
    }

    /// <summary>Names of buffers whose reader is dead (or that have no reader) and that <see cref="Clean"/> would remove.</summary>
    public static IReadOnlyList<string> FindStale(string? lockDirectory = null)
    {
        var stale = new SortedSet<string>(StringComparer.Ordinal);
        foreach (BufferStats stats in List())
        {
            if (!stats.ReaderAlive)
            {
                stale.Add(stats.Name);
            }
        }
        string directory = lockDirectory ?? BufferNames.DefaultLockDirectory;
        if (Directory.Exists(directory))
        {
            foreach (string path in Directory.EnumerateFiles(directory, "*.lock"))
            {
                string name = Path.GetFileNameWithoutExtension(path);
                if (BufferNames.IsValid(name) && FileLock.IsStale(path))
                {
                    stale.Add(name);
                }
            }
        }
        return stale.ToList();
    }

    /// <summary>Removes the buffer's objects if its reader is dead. Returns true if it was stale and is gone.</summary>
    public static bool Clean(string name, string? lockDirectory = null) =>
        StaleBuffers.TryRemove(IpcPlatform.Current, BufferNames.Create(name, lockDirectory));
}
