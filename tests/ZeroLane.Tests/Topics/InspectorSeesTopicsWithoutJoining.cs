using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// <see cref="TopicInspector"/> from outside: publishers and subscribers of real processes with their PIDs, liveness,
/// queue fill and drops, a dead publisher shown as not alive, and rates from two snapshots. It never joins: the
/// publisher's subscriber count is unchanged by an inspection.
/// </summary>
public sealed class InspectorSeesTopicsWithoutJoining : TopicTest
{
    private readonly List<PeerProcess> _peers = new();

    private PeerProcess Start(params string[] arguments)
    {
        PeerProcess peer = PeerProcess.Start(arguments);
        _peers.Add(peer);
        return peer;
    }

    public override void Dispose()
    {
        foreach (PeerProcess peer in _peers)
        {
            peer.Dispose();
        }
        base.Dispose();
    }

    [Fact]
    public void ASubscriberProcessThatFellBehindShowsItsPidFullQueueAndDrops()
    {
        string topic = NewTopic("tp-insp");
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 256, Slots = 6, QueueDepth = 2 });
        PeerProcess subscriber = Start("subscriber", topic, "--hold-samples", "1", "--max-held", "1");
        subscriber.WaitForLine(PeerOutput.Ready);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");
        byte[] sample = new byte[256];
        publisher.Write(sample, Safety.Timeout);
        subscriber.WaitForLine(PeerOutput.Holding);
        // Five more into a queue of two that nobody reads: the three oldest are dropped.
        for (int i = 0; i < 5; i++)
        {
            publisher.Write(sample, Safety.Timeout);
        }

        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? info));

        TopicPublisherInfo found = Assert.Single(info.Publishers);
        Assert.Equal(Environment.ProcessId, found.Pid);
        Assert.Equal(publisher.Id, found.Id);
        Assert.True(found.Alive);
        Assert.Equal(TopicPublisherState.Open, found.State);
        Assert.Null(found.Error);
        Assert.Equal(6UL, found.SamplesPublished);
        Assert.Equal(6, found.Slots);
        Assert.Equal(3, found.SlotsInUse); // one held, two queued
        Assert.Equal(256, found.MaxSampleSize);
        TopicSubscriberEntryInfo entry = Assert.Single(found.Subscribers);
        Assert.Equal(subscriber.Id, entry.Pid);
        Assert.True(entry.Alive);
        Assert.Equal(TopicSubscriberState.Active, entry.State);
        Assert.Equal(2, entry.Queued);
        Assert.Equal(2, entry.QueueDepth);
        Assert.Equal(1.0, entry.QueueFill);
        Assert.Equal(3UL, entry.Dropped);
        Assert.Equal(OverflowPolicy.DropOldest, entry.Overflow);
        Assert.Null(entry.Error);
        TopicSubscriberInfo process = Assert.Single(info.Subscribers);
        Assert.Equal(subscriber.Id, process.Pid);
        Assert.Equal(entry.Id, process.Id);
        Assert.True(process.Alive);
        Assert.Equal(1, publisher.SubscriberCount);
    }

    [Fact]
    public void ABlockingSubscriberAndASubscriberWaitingForAPublisherAreBothListed()
    {
        string topic = NewTopic("tp-inspb");
        using var waiting = new Subscriber(topic);
        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? before));
        Assert.Empty(before.Publishers);
        Assert.Equal(waiting.Id, Assert.Single(before.Subscribers).Id);

        using var publisher = new Publisher(topic);
        using var blocking = new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        Safety.Until(() => publisher.SubscriberCount == 2, "both subscribers joining");

        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? info));
        TopicPublisherInfo found = Assert.Single(info.Publishers);
        Assert.Equal(OverflowPolicy.BlockPublisher, Assert.Single(found.Subscribers, e => e.Id == blocking.Id).Overflow);
        Assert.Equal(OverflowPolicy.DropOldest, Assert.Single(found.Subscribers, e => e.Id == waiting.Id).Overflow);
        Assert.Equal(2, info.Subscribers.Count);
    }

    [Fact]
    public void AKilledPublisherIsListedAsNotAliveUntilCleaned()
    {
        string topic = NewTopic("tp-inspdead");
        PeerProcess publisher = Start("publisher", topic, "--count", "3", "--size", "512", "--hold");
        publisher.WaitForLine(PeerOutput.Written);
        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? alive));
        Assert.True(Assert.Single(alive.Publishers).Alive);

        publisher.Kill();

        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? dead));
        TopicPublisherInfo found = Assert.Single(dead.Publishers);
        Assert.Equal(publisher.Id, found.Pid);
        Assert.False(found.Alive);
        Assert.Equal(TopicPublisherState.Open, found.State);
        Assert.Equal(3UL, found.SamplesPublished);

        Assert.Equal(1, TopicInspector.Clean(topic));
        Assert.False(TopicInspector.TryGetTopic(topic, out _));
        Assert.Empty(Leftovers(topic));
    }

    [Fact]
    public void APublisherThatGrewShowsItsOwnIdInTheSegmentItGrewInto()
    {
        string topic = NewTopic("tp-inspgrow");
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64 });
        using var subscriber = new Subscriber(topic);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");
        publisher.Write(new byte[64], Safety.Timeout);
        TopicSnapshot before = TopicInspector.Snapshot();
        ulong firstSegment = Assert.Single(Assert.Single(before.Topics, t => t.Topic == topic).Publishers).SegmentId;

        publisher.Write(new byte[1000], Safety.Timeout);
        Assert.Equal(1, publisher.GrowthCount);

        TopicSnapshot after = TopicInspector.Snapshot();
        TopicInfo info = Assert.Single(after.Topics, t => t.Topic == topic);
        Assert.All(info.Publishers, p => Assert.Equal(publisher.Id, p.Id));
        Assert.All(info.Publishers, p => Assert.Null(p.Error));
        TopicPublisherInfo grown = Assert.Single(info.Publishers, p => p.State == TopicPublisherState.Open);
        Assert.Equal(firstSegment, grown.Predecessor);
        Assert.NotEqual(firstSegment, grown.SegmentId);
        Assert.True(grown.MaxSampleSize >= 1000);
        Assert.Equal(2UL, grown.SamplesPublished);
        if (info.Publishers.SingleOrDefault(p => p.SegmentId == firstSegment) is { } old)
        {
            Assert.Equal(TopicPublisherState.Closed, old.State);
            Assert.Equal(grown.SegmentId, old.Successor);
        }
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(before.Timestamp, after.Timestamp).TotalSeconds;
        TopicPublisherRate rate = Assert.Single(after.RatesSince(before), r => r.Segment == grown.Segment);
        Assert.Equal(1, rate.SamplesPerSecond * seconds, precision: 6);
    }

    [Fact]
    public void TwoSnapshotsGiveTheSamplesPublishedAndTakenPerSecond()
    {
        string topic = NewTopic("tp-insprate");
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, QueueDepth = 16, Slots = 20 });
        using var subscriber = new Subscriber(topic);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");
        TopicSnapshot first = TopicInspector.Snapshot();
        for (int i = 0; i < 10; i++)
        {
            publisher.Write("sample"u8, Safety.Timeout);
        }
        for (int i = 0; i < 7; i++)
        {
            subscriber.Read(Safety.Timeout).Dispose();
        }
        TopicSnapshot second = TopicInspector.Snapshot();

        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(first.Timestamp, second.Timestamp).TotalSeconds;
        TopicPublisherRate rate = Assert.Single(second.RatesSince(first), r => r.Topic == topic);
        Assert.Equal(publisher.Id, rate.PublisherId);
        Assert.Equal(10, rate.SamplesPerSecond * seconds, precision: 6);
        TopicSubscriberRate taken = Assert.Single(rate.Subscribers);
        Assert.Equal(subscriber.Id, taken.SubscriberId);
        Assert.Equal(7, taken.SamplesPerSecond * seconds, precision: 6);
        Assert.Equal(0, taken.DroppedPerSecond);
        Assert.Throws<ArgumentException>(() => first.RatesSince(second));
    }
}
