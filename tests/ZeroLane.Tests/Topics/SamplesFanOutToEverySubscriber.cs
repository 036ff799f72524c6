using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>One publisher's samples reach every subscriber, in order and byte for byte, read in place.</summary>
public sealed class SamplesFanOutToEverySubscriber : TopicTest
{
    [Fact]
    public void EverySubscriberThatKeepsUpGetsEverySampleInOrder()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 4096, Slots = 64, QueueDepth = 32 });
        Subscriber[] subscribers = Enumerable.Range(0, 3).Select(_ => new Subscriber(topic)).ToArray();
        try
        {
            Assert.Equal(3, publisher.SubscriberCount);
            const int Samples = 300;
            Task<int>[] readers = subscribers.Select(subscriber => Safety.OnThread(() =>
            {
                for (ulong expected = 1; expected <= Samples; expected++)
                {
                    using Sample sample = subscriber.Read(Safety.Timeout);
                    Assert.Equal(expected, sample.Sequence);
                    Assert.Equal(publisher.Id, sample.PublisherId);
                    Patterns.AssertMatches(sample.Span, 1 + (int)(expected * 13 % 4000), expected);
                }
                return Samples;
            })).ToArray();
            for (ulong i = 1; i <= Samples; i++)
            {
                // Paced by the slowest reader so nothing is dropped: a write waits only while every slot is held.
                while (publisher.SamplesPublished - subscribers.Min(s => s.SamplesRead) > 16)
                {
                    Thread.Yield();
                }
                publisher.Write(Patterns.Create(1 + (int)(i * 13 % 4000), i), Safety.Timeout);
            }
            foreach (Task<int> reader in readers)
            {
                Assert.Equal(Samples, Safety.Join(reader));
            }
            Assert.All(subscribers, s => Assert.Equal(0, s.SamplesDropped));
        }
        finally
        {
            foreach (Subscriber subscriber in subscribers)
            {
                subscriber.Dispose();
            }
        }
    }

    [Fact]
    public void ASubscriberStartedBeforeItsPublisherGetsEverySampleFromTheFirstHoweverSoonTheyCome()
    {
        string topic = NewTopic();
        using var subscriber = new Subscriber(topic);
        Assert.Equal(ReadStatus.TimedOut, subscriber.TryRead(out _, Safety.Short));

        // The publisher finds the waiting subscriber and queues for it from its first sample, before the subscriber has
        // even noticed the publisher.
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, Slots = 51, QueueDepth = 50 });
        Assert.Equal(1, publisher.SubscriberCount);
        for (ulong i = 1; i <= 50; i++)
        {
            publisher.Write(Patterns.Create(32, i), Safety.Timeout);
        }

        for (ulong i = 1; i <= 50; i++)
        {
            using Sample sample = subscriber.Read(Safety.Timeout);
            Assert.Equal(i, sample.Sequence);
            Patterns.AssertMatches(sample.Span, 32, i);
        }
        Assert.Equal(0, subscriber.SamplesDropped);
    }

    [Fact]
    public void AWaitingSubscriberThatLeavesBeforeNoticingThePublisherIsLetGo()
    {
        string topic = NewTopic();
        var subscriber = new Subscriber(topic);
        using var publisher = new Publisher(topic, new PublisherOptions { PeerCheckInterval = TimeSpan.FromMilliseconds(10) });
        Assert.Equal(1, publisher.SubscriberCount);

        subscriber.Dispose();

        // The entry made for it goes at a liveness check of a write (its semaphore is gone).
        Safety.Until(() =>
        {
            publisher.Write("x"u8, Safety.Timeout);
            return publisher.SubscriberCount == 0;
        }, "the publisher letting go of the entry it made for the subscriber that left");
    }

    [Fact]
    public void ALoanCommittedShortPublishesWhatWasWrittenToEverySubscriber()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 1 << 16 });
        using var first = new Subscriber(topic);
        using var second = new Subscriber(topic);

        FrameLoan loan = publisher.Loan(1000);
        Patterns.Fill(loan.Span[..700], 5);
        loan.Commit(700);

        using Sample a = first.Read(Safety.Timeout);
        using Sample b = second.Read(Safety.Timeout);
        Patterns.AssertMatches(a.Span, 700, 5);
        Patterns.AssertMatches(b.Span, 700, 5);
        Assert.Throws<ObjectDisposedException>(() => loan.Span.Length);
    }

    [Fact]
    public void TheLastPublisherLeavingEndsTheStreamAfterWhatItQueued()
    {
        string topic = NewTopic();
        var publisher = new Publisher(topic);
        using var subscriber = new Subscriber(topic);
        publisher.Write("a"u8, Safety.Timeout);
        publisher.Write("b"u8, Safety.Timeout);
        publisher.Dispose();

        using (Sample a = subscriber.Read(Safety.Timeout))
        {
            Assert.Equal((byte)'a', a.Span[0]);
        }
        using (Sample b = subscriber.Read(Safety.Timeout))
        {
            Assert.Equal((byte)'b', b.Span[0]);
        }
        Assert.Equal(ReadStatus.WriterDisconnected, subscriber.TryRead(out _, Safety.Timeout));
        subscriber.Dispose();
        Assert.Empty(Leftovers(topic));
    }
}
