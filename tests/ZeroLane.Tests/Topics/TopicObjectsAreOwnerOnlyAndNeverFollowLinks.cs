using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A topic's objects in /dev/shm (publisher segment and semaphore, subscriber semaphore) are owner-only (0600) by default
/// and take the configured permissions exactly; symbolic links planted under names a topic's participants look at
/// (a dead or live publisher's segment, a dead subscriber's semaphore, dangling or not) are never followed: their targets
/// are neither read as segments, nor written, nor removed, nor created, and the topic works beside them.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TopicObjectsAreOwnerOnlyAndNeverFollowLinks : TopicTest
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerAndGroup = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    // Above any pid_max (at most 2^22): never a live process.
    private const int DeadPid = 0x3FFF_FFFF;

    private readonly TempDirectory _elsewhere = new();
    private readonly List<string> _links = new();

    public override void Dispose()
    {
        foreach (string link in _links)
        {
            File.Delete(link);
        }
        _elsewhere.Dispose();
        base.Dispose();
    }

    private static string Describe(string path, UnixFileMode mode) => $"{path}: {Convert.ToString((int)mode, 8)}";

    [Fact]
    public void EveryObjectOfATopicIsOwnerOnlyByDefault()
    {
        string topic = NewTopic("tp-perm");
        using var publisher = new Publisher(topic);
        using var subscriber = new Subscriber(topic);

        string[] paths = Leftovers(topic);
        Assert.Equal(3, paths.Length);
        Assert.All(paths, path => Assert.Equal(Describe(path, OwnerOnly), Describe(path, File.GetUnixFileMode(path))));
    }

    [Fact]
    public void EveryObjectOfATopicTakesTheConfiguredPermissions()
    {
        string topic = NewTopic("tp-perm");
        using var publisher = new Publisher(topic, new PublisherOptions { Permissions = OwnerAndGroup });
        using var subscriber = new Subscriber(topic, new SubscriberOptions { Permissions = OwnerAndGroup });

        string[] paths = Leftovers(topic);
        Assert.Equal(3, paths.Length);
        Assert.All(paths, path => Assert.Equal(Describe(path, OwnerAndGroup), Describe(path, File.GetUnixFileMode(path))));
    }

    [Fact]
    public void LinksNamedLikeATopicsObjectsAreNeverFollowed()
    {
        string topic = NewTopic("tp-link");
        string victim = Path.Combine(_elsewhere.Path, "victim");
        byte[] content = new byte[8192];
        content.AsSpan().Fill(0x5A);
        File.WriteAllBytes(victim, content);
        File.SetUnixFileMode(victim, OwnerOnly | UnixFileMode.GroupRead);
        DateTime written = File.GetLastWriteTimeUtc(victim);
        string absent = Path.Combine(_elsewhere.Path, "created-by-attack");
        var names = TopicNames.Create(topic);
        Plant(TopicNames.SegmentPath(names.PublisherSegment(DeadPid, 0x1111)), victim);
        Plant(TopicNames.SemaphorePath(TopicNames.PublisherSemaphore(names.PublisherSegment(DeadPid, 0x1111))), victim);
        Plant(TopicNames.SegmentPath(names.PublisherSegment(Environment.ProcessId, 0x2222)), victim);
        Plant(TopicNames.SegmentPath(names.PublisherSegment(DeadPid, 0x3333)), absent);
        Plant(TopicNames.SemaphorePath(names.SubscriberSemaphore(DeadPid, 0x4444)), victim);
        Plant(TopicNames.SemaphorePath(names.SubscriberSemaphore(DeadPid, 0x5555)), absent);

        using (var subscriber = new Subscriber(topic))
        using (var publisher = new Publisher(topic))
        {
            Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining the real publisher");
            publisher.Write("real"u8, Safety.Timeout);
            using Sample sample = subscriber.Read(Safety.Timeout);
            Assert.Equal("real"u8.ToArray(), sample.Span.ToArray());
            Assert.Equal(1, subscriber.PublisherCount);
        }

        Assert.Equal(content, File.ReadAllBytes(victim));
        Assert.Equal(OwnerOnly | UnixFileMode.GroupRead, File.GetUnixFileMode(victim));
        Assert.Equal(written, File.GetLastWriteTimeUtc(victim));
        Assert.False(File.Exists(absent));
        Assert.Equal([victim], Directory.GetFileSystemEntries(_elsewhere.Path));
    }

    private void Plant(string link, string target)
    {
        File.CreateSymbolicLink(link, target);
        _links.Add(link);
    }
}
