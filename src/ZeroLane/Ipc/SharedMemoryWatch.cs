namespace ZeroLane.Ipc;

/// <summary>
/// One watch on /dev/shm per process (inotify through <see cref="FileSystemWatcher"/>) that tells whoever waits for a
/// shared-memory object at once when it appears: a topic's subscribers when a publisher appears, a ring writer connecting
/// with a timeout when its reader creates the buffer. So joining takes milliseconds, not a polling interval. Every user
/// also looks again periodically, so a missed or unavailable watch only delays it.
/// </summary>
internal static class SharedMemoryWatch
{
    private static readonly object s_sync = new();
    private static readonly List<(string Prefix, Action Appeared)> s_watchers = new();
    private static FileSystemWatcher? s_watcher;
    private static bool s_unavailable;

    /// <summary>Calls <paramref name="appeared"/> whenever a file named <paramref name="prefix"/>* appears in /dev/shm.</summary>
    internal static IDisposable Watch(string prefix, Action appeared)
    {
        var entry = (prefix, appeared);
        lock (s_sync)
        {
            s_watchers.Add(entry);
            EnsureStarted();
        }
        return new Registration(entry);
    }

    /// <summary>True while a watch for names starting with <paramref name="prefix"/> is registered (a test's signal that a wait has begun).</summary>
    internal static bool IsWatching(string prefix)
    {
        lock (s_sync)
        {
            return s_watchers.Exists(w => w.Prefix == prefix);
        }
    }

    private static void EnsureStarted()
    {
        if (s_watcher is not null || s_unavailable)
        {
            return;
        }
        try
        {
            var watcher = new FileSystemWatcher("/dev/shm") { NotifyFilter = NotifyFilters.FileName, IncludeSubdirectories = false };
            watcher.Created += (_, e) => OnCreated(e.Name);
            watcher.EnableRaisingEvents = true;
            s_watcher = watcher;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or UnauthorizedAccessException or ArgumentException)
        {
            // No inotify instance left (fs.inotify.max_user_instances) or no /dev/shm: every user polls instead.
            s_unavailable = true;
        }
    }

    private static void OnCreated(string? name)
    {
        if (name is null)
        {
            return;
        }
        Action[] matching;
        lock (s_sync)
        {
            matching = s_watchers.Where(w => name.StartsWith(w.Prefix, StringComparison.Ordinal)).Select(w => w.Appeared).ToArray();
        }
        foreach (Action appeared in matching)
        {
            appeared();
        }
    }

    private sealed class Registration((string Prefix, Action Appeared) entry) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (s_sync)
                {
                    s_watchers.Remove(entry);
                }
            }
        }
    }
}
