using System.Diagnostics.CodeAnalysis;
using ZeroLane.Ipc;
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
            if (TryGetStats(name, out BufferStats? stats))
            {
                result.Add(stats);
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>Reads the figures of buffer <paramref name="name"/>; false if there is no ZeroBuffer v1 buffer of that name that this user can read.</summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    public static bool TryGetStats(string name, [NotNullWhen(true)] out BufferStats? stats)
    {
        BufferNames.Validate(name);
        stats = null;
        IIpcPlatform platform = IpcPlatform.Current;
        SharedMemory? memory;
        try
        {
            memory = platform.OpenSharedMemory(name, writable: false);
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        using (memory)
        {
            if (memory is null || memory.Length < OiebLayout.Size)
            {
                return false;
            }
            using var region = new MappedRegion(memory.Mapping);
            var oieb = new Oieb(region);
            if (!oieb.LooksValid)
            {
                return false;
            }
            stats = BufferStats.Read(name, oieb, platform);
            return true;
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
