using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// Names that could escape /dev/shm and options out of range are refused before anything is created, with an error that
/// says what is allowed; what a topic creates is owner-only by default; every wait strategy delivers.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TopicNamesOptionsAndWaits : TopicTest
{
    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("..")]
    public void ANameThatIsNotAllowedIsRefusedByBothRoles(string topic)
    {
        string[] before = TopicObjects(topic);

        Assert.Throws<InvalidNameException>(() => new Publisher(topic));
        Assert.Throws<InvalidNameException>(() => new Subscriber(topic));

        Assert.Equal(before, TopicObjects(topic));
    }

    /// <summary>
    /// The objects in /dev/shm a topic of that name would have, not every file there: tests running alongside (the ring
    /// fuzz target makes and removes hundreds of buffers a second) change the total at any moment.
    /// </summary>
    private static string[] TopicObjects(string topic) =>
    [
        .. Directory.GetFiles("/dev/shm")
            .Select(Path.GetFileName)
            .Where(file => file!.StartsWith($"zlt.{topic}", StringComparison.Ordinal) || file.StartsWith($"sem.zlt.{topic}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)!,
    ];

    public static TheoryData<string, PublisherOptions> BadPublisherOptions => new()
    {
        { "MaxSampleSize", new PublisherOptions { MaxSampleSize = 0 } },
        { "Slots", new PublisherOptions { Slots = 0 } },
        { "MaxSubscribers", new PublisherOptions { MaxSubscribers = 64 } },
        { "QueueDepth", new PublisherOptions { QueueDepth = 0 } },
        { "AcknowledgeTimeout", new PublisherOptions { AcknowledgeTimeout = TimeSpan.FromSeconds(-2) } },
        { "PeerCheckInterval", new PublisherOptions { PeerCheckInterval = TimeSpan.Zero } },
        { "History", new PublisherOptions { History = 8, Slots = 8 } },
    };

    [Theory]
    [MemberData(nameof(BadPublisherOptions))]
    public void APublisherOptionOutOfRangeIsNamedAndNothingIsCreated(string property, PublisherOptions options)
    {
        string topic = NewTopic();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Publisher(topic, options));

        Assert.Contains(property, error.Message);
        Assert.Empty(Leftovers(topic));
    }

    [Fact]
    public void ASubscriberOptionOutOfRangeIsNamedAndNothingIsCreated()
    {
        string topic = NewTopic();

        Assert.Contains("MaxHeld", Assert.Throws<ArgumentOutOfRangeException>(() => new Subscriber(topic, new SubscriberOptions { MaxHeld = 0 })).Message);
        Assert.Contains("Overflow", Assert.Throws<ArgumentOutOfRangeException>(() => new Subscriber(topic, new SubscriberOptions { Overflow = (OverflowPolicy)7 })).Message);
        Assert.Contains("PeerCheckInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new Subscriber(topic, new SubscriberOptions { PeerCheckInterval = TimeSpan.Zero })).Message);
        Assert.Empty(Leftovers(topic));
    }

    [Fact]
    public void EverythingATopicCreatesIsOwnerOnlyByDefault()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic);
        using var subscriber = new Subscriber(topic);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");

        string[] files = Leftovers(topic);
        Assert.Equal(3, files.Length); // segment, its semaphore, the subscriber's semaphore
        Assert.All(files, path => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path)));
    }

    [Theory]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.BusySpin)]
    public void EveryWaitStrategyDeliversEverySampleToAWaitingSubscriber(WaitStrategy strategy)
    {
        string topic = NewTopic();
        const int count = 200;
        using var publisher = new Publisher(topic, new PublisherOptions
        {
            MaxSampleSize = 256, Slots = 2, QueueDepth = 1, WaitStrategy = strategy, AcknowledgeTimeout = Timeout.InfiniteTimeSpan,
        });
        using var subscriber = new Subscriber(topic, new SubscriberOptions { WaitStrategy = strategy, Overflow = OverflowPolicy.BlockPublisher });
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");

        // The subscriber waits for each sample; the publisher, with one queue entry and a blocking subscriber, waits for it.
        Task<ulong> reader = Safety.OnThread(() =>
        {
            ulong sum = 0;
            for (ulong expected = 1; expected <= count; expected++)
            {
                using Sample sample = subscriber.Read(Safety.Timeout);
                Assert.Equal(expected, sample.Sequence);
                Patterns.AssertMatches(sample.Span, 100, expected);
                sum += sample.Sequence;
            }
            return sum;
        });
        for (ulong i = 1; i <= count; i++)
        {
            publisher.Write(Patterns.Create(100, i), Safety.Timeout);
        }

        Assert.Equal((ulong)count * (count + 1) / 2, Safety.Join(reader, "the subscriber"));
        Assert.Equal(0, subscriber.SamplesDropped);
    }
}
