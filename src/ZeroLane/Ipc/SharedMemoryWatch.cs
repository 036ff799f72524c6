namespace ZeroLane.Topics;

/// <summary>
/// One watch on /dev/shm per process (inotify through <see cref="FileSystemWatcher"/>) that tells subscribers at once when
/// a publisher of their topic appears, so joining takes milliseconds, not a polling interval. Subscribers also look for
/// publishers at every peer check, so a missed or unavailable watch only delays joining.
/// </summary>
internal static class TopicWatch
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
            // No inotify instance left (fs.inotify.max_user_instances) or no /dev/shm: subscribers poll instead.
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
