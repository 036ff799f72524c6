using ZeroLane.Posix;

namespace ZeroLane.Buffers;

/// <summary>Finds and removes the objects of buffers whose reader died without cleaning up.</summary>
internal static class StaleBuffers
{
    /// <summary>
    /// For each lock file in <paramref name="lockDirectory"/> that no process holds, removes that buffer's
    /// shared memory and semaphores (unless its recorded reader still lives) and the lock file.
    /// </summary>
    internal static List<string> RemoveAll(IIpcPlatform platform, string lockDirectory, string? except = null)
    {
        var removed = new List<string>();
        if (!Directory.Exists(lockDirectory))
        {
            return removed;
        }
        foreach (string path in Directory.EnumerateFiles(lockDirectory, "*.lock"))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name == except || !BufferNames.IsValid(name))
            {
                continue;
            }
            try
            {
                if (TryRemove(platform, BufferNames.Create(name, lockDirectory)))
                {
                    removed.Add(name);
                }
            }
            catch (UnauthorizedAccessException)
            {
                // Another user's buffer: not ours to judge or remove.
            }
            catch (IOException)
            {
                // Raced with its owner or another cleaner; leave it.
            }
        }
        return removed;
    }

    /// <summary>Removes one buffer if its lock is free and its reader is dead. Returns true if it removed anything.</summary>
    internal static bool TryRemove(IIpcPlatform platform, BufferNames names)
    {
        // Always under the name's lock (taking it creates the file if there is none): a reader holds it from
        // before it creates anything until after it removed everything, so a cleaner can never remove the
        // objects of a reader that is being created or is alive. A reader that finds the lock briefly held
        // by a cleaner retries (see RingReader).
        if (!Directory.Exists(names.LockDirectory))
        {
            return RemoveObjectsIfReaderDead(platform, names);
        }
        using FileLock? held = platform.TryAcquireLock(names.LockPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (held is null)
        {
            return false;
        }
        // Disposing the lock removes the lock file.
        return RemoveObjectsIfReaderDead(platform, names);
    }

    private static bool RemoveObjectsIfReaderDead(IIpcPlatform platform, BufferNames names)
    {
        if (Oieb.PeekReader(platform, names.SharedMemory) is { Pid: not 0 } reader && platform.IsAlive(reader))
        {
            return false;
        }
        bool any = platform.RemoveSharedMemory(names.SharedMemory);
        any |= platform.RemoveSemaphore(names.WriteSemaphore);
        any |= platform.RemoveSemaphore(names.ReadSemaphore);
        return true;
    }
}
