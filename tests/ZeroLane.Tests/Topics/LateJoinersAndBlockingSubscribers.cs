using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A publisher with history keeps its newest samples for subscribers that join later: a late joiner reads them first, then
/// the live stream, with no gap and no duplicate, even when it joins in the middle of a fast stream. A subscriber that asks
/// to block the publisher makes a write wait for room in its queue, up to the acknowledge timeout, instead of losing samples.
/// </summary>
public sealed class LateJoinersAndBlockingSubscribers : TopicTest
{
    [Fact]
    public void ALateJoinerReadsTheNewestKeptSamplesThenTheLiveStream()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 256, Slots = 8, History = 3, QueueDepth = 8 });
        for (ulong i = 1; i <= 10; i++)
        {
            publisher.Write(Patterns.Create(100, i), Safety.Timeout);
        }

        using var late = new Subscriber(topic);
        for (ulong i = 11; i <= 13; i++)
        {
            publisher.Write(Patterns.Create(100, i), Safety.Timeout);
        }

        for (ulong expected = 8; expected <= 13; expected++)
        {
            using Sample sample = late.Read(Safety.Timeout);
            Assert.Equal(expected, sample.Sequence);
            Patterns.AssertMatches(sample.Span, 100, expected);
        }
        Assert.Equal(ReadStatus.TimedOut, late.TryRead(out _, Safety.Short));
        Assert.Equal(0, late.SamplesDropped);
    }

    [Fact]
    public void ALateJoinerOfAQuietPublisherGetsTheLastValueAtOnce()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, Slots = 2, History = 1 });
        publisher.Write("first"u8, Safety.Timeout);
        publisher.Write("last"u8, Safety.Timeout);

        using var late = new Subscriber(topic);
        using Sample sample = late.Read(Safety.Timeout);

        Assert.Equal("last"u8.ToArray(), sample.Span.ToArray());
        Assert.Equal(2UL, sample.Sequence);
    }

    [Fact]
    public void SubscribersThatWereThereGetEverySampleOnceAndKeptSlotsDoNotStopTheWriter()
    {
        string topic = NewTopic();
        // Two of the three slots are always kept: every write goes to the one left.
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, Slots = 3, History = 2 });
        using var early = new Subscriber(topic);
        Subscriber? middle = null;
        var middleRead = new List<ulong>();
        try
        {
            for (ulong i = 1; i <= 30; i++)
            {
                publisher.Write(Patterns.Create(40, i), Safety.Timeout);
                using (Sample sample = early.Read(Safety.Timeout))
                {
                    Assert.Equal(i, sample.Sequence);
                    Patterns.AssertMatches(sample.Span, 40, i);
                }
                if (i == 15)
                {
                    middle = new Subscriber(topic);
                }
                // The joiner reads whatever is there now (published before this point: no waiting involved).
                while (middle is not null && middle.TryRead(out Sample sample, TimeSpan.Zero) == ReadStatus.Success)
                {
                    using (sample)
                    {
                        middleRead.Add(sample.Sequence);
                        Patterns.AssertMatches(sample.Span, 40, sample.Sequence);
                    }
                }
            }
            Assert.Equal(Enumerable.Range(14, 17).Select(n => (ulong)n), middleRead);
            Assert.Equal(ReadStatus.TimedOut, early.TryRead(out _, Safety.Short));
            Assert.Equal(0, publisher.SamplesDropped);
        }
        finally
        {
            middle?.Dispose();
        }
    }

    [Fact]
    public void SubscribersJoiningAFastStreamSeeNoGapAndNoDuplicate()
    {
        const ulong total = 4000;
        const int joiners = 6;
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions
        {
            MaxSampleSize = 64, Slots = 12, History = 4, QueueDepth = 16, AcknowledgeTimeout = Safety.Timeout,
        });
        var blocking = new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher };
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var readers = new List<Thread>();
        var writer = new Thread(() =>
        {
            for (ulong i = 1; i <= total; i++)
            {
                publisher.Write(Patterns.Create(24, i), Safety.Timeout);
            }
        });
        writer.Start();
        for (int j = 0; j < joiners; j++)
        {
            // Join at spread-out points of the stream, wherever the writer happens to be.
            SpinWait.SpinUntil(() => publisher.SamplesPublished >= (long)total * j / joiners / 2, Safety.Timeout);
            long before = publisher.SamplesPublished;
            var subscriber = new Subscriber(topic, blocking);
            long after = publisher.SamplesPublished;
            var reader = new Thread(() =>
            {
                using (subscriber)
                {
                    try
                    {
                        ulong previous = 0;
                        while (previous < total)
                        {
                            using Sample sample = subscriber.Read(Safety.Timeout);
                            if (previous == 0)
                            {
                                // The kept samples when it joined, or the first published after: never older, never later.
                                if ((long)sample.Sequence < before - 3 || (long)sample.Sequence > after + 1)
                                {
                                    errors.Enqueue($"joined between {before} and {after} published, first read {sample.Sequence}");
                                }
                            }
                            else if (sample.Sequence <= previous)
                            {
                                errors.Enqueue($"read {sample.Sequence} after {previous}");
                            }
                            else if (sample.Sequence != previous + 1 && (long)sample.Sequence > after)
                            {
                                // Published after the subscriber was there: nothing may be missing. (Kept samples can be,
                                // when the publisher pushed them out of its history while the subscriber was joining.)
                                errors.Enqueue($"read {sample.Sequence} after {previous}, published after joining at {after}");
                            }
                            if (Patterns.FirstMismatch(sample.Span, sample.Sequence) >= 0)
                            {
                                errors.Enqueue($"sample {sample.Sequence} has the wrong bytes");
                            }
                            previous = sample.Sequence;
                        }
                        if (subscriber.SamplesDropped != 0)
                        {
                            errors.Enqueue($"{subscriber.SamplesDropped} samples dropped for a subscriber that blocks the publisher");
                        }
                    }
                    catch (Exception e)
                    {
                        errors.Enqueue($"after reading {subscriber.SamplesRead} samples, {publisher.SamplesPublished} published (joined between {before} and {after}): {e}");
                    }
                }
            });
            reader.Start();
            readers.Add(reader);
        }

        writer.Join();
        readers.ForEach(reader => reader.Join());
        Assert.True(errors.IsEmpty, string.Join("\n", errors));
        Assert.Equal(0, publisher.SamplesDropped);
    }

    [Fact]
    public async Task ABlockingSubscribersFullQueueMakesTheWriteWaitUntilItReads()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions
        {
            MaxSampleSize = 64, Slots = 8, QueueDepth = 2, AcknowledgeTimeout = Timeout.InfiniteTimeSpan,
        });
        using var blocking = new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        using var dropping = new Subscriber(topic);
        publisher.Write(Patterns.Create(16, 1), Safety.Timeout);
        publisher.Write(Patterns.Create(16, 2), Safety.Timeout);

        Task third = Task.Run(() => publisher.Write(Patterns.Create(16, 3), Safety.Timeout));
        Assert.True(SpinWait.SpinUntil(() => publisher.QueueWaits == 1, Safety.Timeout), "the write never waited for room");
        Assert.False(third.IsCompleted, "the write went on while the blocking subscriber's queue was full");

        using (Sample first = blocking.Read(Safety.Timeout))
        {
            Assert.Equal(1UL, first.Sequence);
        }
        await third.WaitAsync(Safety.Timeout);
        for (ulong expected = 2; expected <= 3; expected++)
        {
            using Sample sample = blocking.Read(Safety.Timeout);
            Assert.Equal(expected, sample.Sequence);
        }
        Assert.Equal(0, blocking.SamplesDropped);
        // The other subscriber's queue was full too; it dropped its oldest and never held the publisher up.
        Assert.Equal(1, dropping.SamplesDropped);
        using Sample next = dropping.Read(Safety.Timeout);
        Assert.Equal(2UL, next.Sequence);
    }

    [Fact]
    public void ABlockingSubscriberThatDoesNotReadLosesItsOldestAfterTheAcknowledgeTimeout()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions
        {
            MaxSampleSize = 64, Slots = 8, QueueDepth = 2, AcknowledgeTimeout = TimeSpan.FromMilliseconds(20),
        });
        using var blocking = new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        for (ulong i = 1; i <= 3; i++)
        {
            publisher.Write(Patterns.Create(16, i), Safety.Timeout);
        }

        Assert.Equal(1, publisher.QueueWaits);
        Assert.Equal(1, blocking.SamplesDropped);
        for (ulong expected = 2; expected <= 3; expected++)
        {
            using Sample sample = blocking.Read(Safety.Timeout);
            Assert.Equal(expected, sample.Sequence);
        }
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(27, 64)]
    [InlineData(-1, 8)]
    public void HistoryMustLeaveASlotToWriteAndFitTheHeader(int history, int slots)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(
            () => new Publisher(NewTopic(), new PublisherOptions { History = history, Slots = slots }));
        Assert.Contains("History", error.Message);
    }
}
