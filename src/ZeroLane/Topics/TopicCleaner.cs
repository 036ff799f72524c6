using ZeroLane.Posix;

namespace ZeroLane.Topics;

/// <summary>Removes the objects of a topic's publishers and subscribers that died without cleaning up.</summary>
/// <remarks>
/// An object is stale when the process named in it is gone and nobody holds the flock its owner keeps on its file while
/// it lives (the kernel drops that lock when a process dies, however it dies). The PID check covers the moment between
/// an owner creating its object and locking it.
/// </remarks>
internal static class TopicCleaner
{
    /// <summary>Removes every stale object of the topic; returns how many participants' objects went.</summary>
    internal static int RemoveStale(IIpcPlatform platform, TopicNames names)
    {
        int removed = 0;
        foreach ((string segment, int pid, _) in names.FindPublishers())
        {
            if (!platform.IsAlive(new ProcessIdentity(pid, 0)))
            {
                // The semaphore first: a cleaner killed between the two steps leaves the segment, which the next one finds.
                TryUnlinkSemaphore(TopicNames.PublisherSemaphore(segment));
                if (TryRemove(TopicNames.SegmentPath(segment)))
                {
                    removed++;
                }
            }
        }
        // A publisher semaphore without its segment (its owner died while it left, after removing the segment).
        foreach ((string semaphore, int pid, _) in names.FindPublisherSemaphores())
        {
            if (!platform.IsAlive(new ProcessIdentity(pid, 0)) && !File.Exists(TopicNames.SegmentPath(semaphore.TrimStart('/'))))
            {
                TryUnlinkSemaphore(semaphore);
            }
        }
        foreach ((string semaphore, int pid, _) in names.FindSubscribers())
        {
            if (!platform.IsAlive(new ProcessIdentity(pid, 0)) && TryRemove(TopicNames.SemaphorePath(semaphore)))
            {
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Removes a subscriber's semaphore if its owner is gone (called by a publisher that found the subscriber dead).</summary>
    internal static void RemoveSubscriberIfStale(IIpcPlatform platform, string semaphore, int pid)
    {
        if (!platform.IsAlive(new ProcessIdentity(pid, 0)))
        {
            TryRemove(TopicNames.SemaphorePath(semaphore));
        }
    }

    private static bool TryRemove(string path)
    {
        try
        {
            return FileLock.TryRemoveStale(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's object, or a race with its owner or another cleaner: not ours to judge now.
            return false;
        }
    }

    private static void TryUnlinkSemaphore(string semaphore)
    {
        try
        {
            NamedSemaphore.Unlink(semaphore);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
