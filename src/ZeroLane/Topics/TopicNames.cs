using System.Globalization;
using ZeroLane.Ipc;

namespace ZeroLane.Topics;

/// <summary>
/// The names of a topic's objects. A topic has no object of its own: each publisher has a segment and a semaphore, each
/// subscriber a semaphore, all in /dev/shm and all named after the topic, the owner's PID and a random ID, so that any
/// process finds the participants of a topic by listing /dev/shm (discovery without a daemon):
/// <list type="bullet">
/// <item>publisher segment <c>/dev/shm/zlt.TOPIC.p.PID.ID</c> (shm_open name <c>zlt.TOPIC.p.PID.ID</c>);</item>
/// <item>publisher semaphore <c>/zlt.TOPIC.p.PID.ID</c> (file <c>/dev/shm/sem.zlt.TOPIC.p.PID.ID</c>): "a slot was released";</item>
/// <item>subscriber semaphore <c>/zlt.TOPIC.s.PID.ID</c> (file <c>/dev/shm/sem.zlt.TOPIC.s.PID.ID</c>): "a sample was queued".</item>
/// </list>
/// ID is 16 hexadecimal digits. The owner of each object holds an exclusive flock on its file while it lives, so a file
/// whose lock anyone can take belongs to a process that is gone.
/// </summary>
internal readonly record struct TopicNames(string Topic)
{
    /// <summary>What a topic's name is called in errors.</summary>
    internal const string Kind = "topic";

    private const string DeviceDirectory = "/dev/shm";

    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    internal static TopicNames Create(string topic)
    {
        ObjectNames.Validate(topic, Kind);
        return new TopicNames(topic);
    }

    internal string PublisherSegment(int pid, ulong id) => $"zlt.{Topic}.p.{pid}.{id:x16}";

    internal string SubscriberSemaphore(int pid, ulong id) => $"/zlt.{Topic}.s.{pid}.{id:x16}";

    /// <summary>The publisher's semaphore, named as its segment with a leading slash.</summary>
    internal static string PublisherSemaphore(string segment) => "/" + segment;

    /// <summary>The file of a shared memory object.</summary>
    internal static string SegmentPath(string segment) => $"{DeviceDirectory}/{segment}";

    /// <summary>The file glibc keeps a named semaphore in.</summary>
    internal static string SemaphorePath(string semaphore) => $"{DeviceDirectory}/sem.{semaphore.TrimStart('/')}";

    /// <summary>The bit of a subscriber's ID that says it blocks the publisher (<see cref="OverflowPolicy.BlockPublisher"/>).</summary>
    internal const ulong BlocksPublisherBit = 2;

    /// <summary>A random ID for a new participant.</summary>
    internal static ulong NewId() => (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>The publisher segments of the topic in /dev/shm now: (shm name, owner PID, ID).</summary>
    internal List<(string Segment, int Pid, ulong Id)> FindPublishers() => Find($"zlt.{Topic}.p.", stripPrefix: "");

    /// <summary>The publisher semaphores of the topic in /dev/shm now: (semaphore name, owner PID, ID).</summary>
    internal List<(string Semaphore, int Pid, ulong Id)> FindPublisherSemaphores() => Find($"sem.zlt.{Topic}.p.", stripPrefix: "sem.", addSlash: true);

    /// <summary>The subscriber semaphores of the topic in /dev/shm now: (semaphore name, owner PID, ID).</summary>
    internal List<(string Semaphore, int Pid, ulong Id)> FindSubscribers() => Find($"sem.zlt.{Topic}.s.", stripPrefix: "sem.", addSlash: true);

    private static List<(string Name, int Pid, ulong Id)> Find(string filePrefix, string stripPrefix, bool addSlash = false)
    {
        var found = new List<(string, int, ulong)>();
        if (!Directory.Exists(DeviceDirectory))
        {
            return found;
        }
        foreach (string path in Directory.EnumerateFiles(DeviceDirectory, filePrefix + "*"))
        {
            string file = Path.GetFileName(path);
            if (!file.StartsWith(filePrefix, StringComparison.Ordinal))
            {
                continue;
            }
            // The rest is PID.ID exactly (the topic's own dots are all in the prefix).
            string[] rest = file[filePrefix.Length..].Split('.');
            if (rest.Length == 2 &&
                int.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) &&
                rest[1].Length == 16 && ulong.TryParse(rest[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong id))
            {
                string name = file[stripPrefix.Length..];
                found.Add((addSlash ? "/" + name : name, pid, id));
            }
        }
        return found;
    }
}
