using System.Collections.Concurrent;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A sample larger than a publisher's slots moves it to new shared memory with larger slots: subscribers follow without
/// losing, tearing or repeating a sample, late joiners still get the kept samples, and the old memory goes once nobody
/// needs it.
/// </summary>
public sealed class SamplesLargerThanTheSlotsGrowTheTopic : TopicTest
{
    [Fact]
    public void SubscribersReadingWhileThePublisherGrowsGetEverySampleOnceAndWhole()
    {
        string topic = NewTopic();
        const int count = 400;
        var options = new PublisherOptions { MaxSampleSize = 1024, Slots = 4, QueueDepth = 8, AcknowledgeTimeout = Timeout.InfiniteTimeSpan };
        using var publisher = new Publisher(topic, options);
        var subscribers = new[]
        {
            new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher }),
            new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher, MaxHeld = 3 }),
        };
        var errors = new ConcurrentQueue<string>();
        try
        {
            Task[] readers = subscribers.Select((subscriber, k) => Task.Run(() =>
            {
                var held = new Queue<Sample>();
                for (ulong expected = 1; expected <= count; expected++)
                {
                    Sample sample = subscriber.Read(Safety.Timeout);
                    if (sample.Sequence != expected)
                    {
                        errors.Enqueue($"subscriber {k} read sequence {sample.Sequence}, expected {expected}");
                    }
                    if (sample.Length != SizeOf(sample.Sequence) || Patterns.FirstMismatch(sample.Span, sample.Sequence) >= 0)
                    {
                        errors.Enqueue($"subscriber {k}: sample {sample.Sequence} is torn ({sample.Length} bytes)");
                    }
                    // The second one keeps a few samples of the old segment while the publisher moves on.
                    held.Enqueue(sample);
                    while (held.Count > k * 2)
                    {
                        held.Dequeue().Dispose();
                    }
                }
                while (held.Count > 0)
                {
                    held.Dequeue().Dispose();
                }
            })).ToArray();

            for (ulong i = 1; i <= count; i++)
            {
                publisher.Write(Patterns.Create(SizeOf(i), i), Safety.Timeout);
            }
            foreach (Task reader in readers)
            {
                Safety.Join(reader, "a subscriber reading every sample");
            }
        }
        finally
        {
            foreach (Subscriber subscriber in subscribers)
            {
                subscriber.Dispose();
            }
        }

        Assert.Empty(errors);
        // 1 KiB slots at first; the last sample needs 20 KiB: 2, 4, 8, 16 then 32 KiB.
        Assert.Equal(5, publisher.GrowthCount);
        Assert.True(publisher.MaxSampleSize >= SizeOf(count));
        Assert.Equal(0, publisher.SamplesDropped);
    }

    [Fact]
    public void ALateJoinerAfterGrowthGetsTheKeptSamplesAndOnlyTheNewSegmentRemains()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, Slots = 6, History = 3 });
        publisher.Write(Patterns.Create(50, 1), Safety.Timeout);
        publisher.Write(Patterns.Create(60, 2), Safety.Timeout);
        publisher.Write(Patterns.Create(5000, 3), Safety.Timeout);
        publisher.Write(Patterns.Create(70, 4), Safety.Timeout);

        Assert.Equal(1, publisher.GrowthCount);
        // Nobody needed the old segment: it went at once.
        Assert.Single(Leftovers(topic), path => Path.GetFileName(path).StartsWith($"zlt.{topic}.p.", StringComparison.Ordinal));

        using var late = new Subscriber(topic);
        int[] sizes = [60, 5000, 70];
        for (ulong sequence = 2; sequence <= 4; sequence++)
        {
            using Sample sample = late.Read(Safety.Timeout);
            Assert.Equal(sequence, sample.Sequence);
            Assert.Equal(sizes[sequence - 2], sample.Length);
            Patterns.AssertMatches(sample.Span, sample.Length, sequence);
            Assert.Equal(publisher.Id, sample.PublisherId);
        }
        Assert.Equal(ReadStatus.TimedOut, late.TryRead(out _, Safety.Short));
    }

    [Fact]
    public void ASubscriberThatLeavesBeforeMovingOnIsLetGoAndTheOldSegmentGoes()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, Slots = 4, PeerCheckInterval = TimeSpan.FromMilliseconds(10) });
        var lagging = new Subscriber(topic);
        using var reading = new Subscriber(topic);
        publisher.Write(Patterns.Create(40, 1), Safety.Timeout);
        publisher.Write(Patterns.Create(400, 2), Safety.Timeout);
        using (Sample first = reading.Read(Safety.Timeout))
        using (Sample second = reading.Read(Safety.Timeout))
        {
            Assert.Equal((1UL, 2UL), (first.Sequence, second.Sequence));
            Assert.Equal(400, second.Length);
        }
        // The lagging one never read the old segment to the end: it leaves without taking over its entry.
        lagging.Dispose();

        ulong sequence = 3;
        Safety.Until(() =>
        {
            publisher.Write(Patterns.Create(300, sequence), Safety.Timeout);
            using Sample sample = reading.Read(Safety.Timeout);
            Assert.Equal(sequence++, sample.Sequence);
            return publisher.SubscriberCount == 1 &&
                Leftovers(topic).Count(path => Path.GetFileName(path).StartsWith($"zlt.{topic}.p.", StringComparison.Ordinal)) == 1;
        }, "the publisher to let go of the entry it copied for the subscriber that left, and of its old segment");
    }

    [Fact]
    public void AWriteTooLargeForAPublisherThatMayNotGrowThrowsAndPublishesNothing()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, AllowGrowth = false });
        using var subscriber = new Subscriber(topic);

        var error = Assert.Throws<FrameTooLargeException>(() => publisher.Write(new byte[65], Safety.Timeout));

        Assert.Contains("AllowGrowth", error.Message);
        Assert.Equal(0, publisher.SamplesPublished);
        Assert.Equal(ReadStatus.TimedOut, subscriber.TryRead(out _, Safety.Short));
    }

    /// <summary>Sizes that climb past 1, 2, 4, 8 and 16 KiB over the stream.</summary>
    private static int SizeOf(ulong sequence) => 100 + (int)sequence * 50;
}
