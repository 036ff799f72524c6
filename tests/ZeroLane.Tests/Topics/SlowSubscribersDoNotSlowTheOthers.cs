using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A subscriber that falls behind loses its oldest queued samples (drop oldest); the publisher and the other subscribers
/// go on. A write waits only when every slot is held, and then no longer than the acknowledge timeout.
/// </summary>
public sealed class SlowSubscribersDoNotSlowTheOthers : TopicTest
{
    [Fact]
    public void ASubscriberThatDoesNotReadKeepsOnlyTheNewestAndCountsWhatItLost()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, Slots = 8, QueueDepth = 4 });
        using var slow = new Subscriber(topic);
        using var fast = new Subscriber(topic);

        for (ulong i = 1; i <= 20; i++)
        {
            publisher.Write(Patterns.Create(16, i), Safety.Timeout);
            using Sample sample = fast.Read(Safety.Timeout);
            Assert.Equal(i, sample.Sequence);
        }

        for (ulong expected = 17; expected <= 20; expected++)
        {
            using Sample sample = slow.Read(Safety.Timeout);
            Assert.Equal(expected, sample.Sequence);
            Patterns.AssertMatches(sample.Span, 16, expected);
        }
        Assert.Equal(ReadStatus.TimedOut, slow.TryRead(out _, Safety.Short));
        Assert.Equal(16, slow.SamplesDropped);
        Assert.Equal(0, fast.SamplesDropped);
        Assert.Equal(16, publisher.SamplesDropped);
    }

    [Fact]
    public void AHeldSampleIsNeverOverwrittenAndAWriteWaitsOnlyWhenEverySlotIsHeld()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64, Slots = 3, QueueDepth = 4 });
        using var subscriber = new Subscriber(topic, new SubscriberOptions { MaxHeld = 3 });
        var held = new List<Sample>();
        try
        {
            for (ulong i = 1; i <= 3; i++)
            {
                publisher.Write(Patterns.Create(32, i), Safety.Timeout);
                held.Add(subscriber.Read(Safety.Timeout));
            }

            // Every slot is held: the write waits and gives up; nothing held was touched.
            Assert.Equal(WriteStatus.TimedOut, publisher.TryWrite(Patterns.Create(32, 99), Safety.Short));
            for (int i = 0; i < 3; i++)
            {
                Patterns.AssertMatches(held[i].Span, 32, (ulong)i + 1);
            }

            // Releasing one lets the next write through, into that slot only.
            held[1].Dispose();
            publisher.Write(Patterns.Create(32, 4), Safety.Timeout);
            Patterns.AssertMatches(held[0].Span, 32, 1);
            Patterns.AssertMatches(held[2].Span, 32, 3);
            Assert.Throws<ObjectDisposedException>(() => held[1].Span.Length);
        }
        finally
        {
            held.ForEach(sample => sample.Dispose());
        }
        using Sample fourth = subscriber.Read(Safety.Timeout);
        Assert.Equal(4UL, fourth.Sequence);
    }

    [Fact]
    public void ASubscriberHoldsAtMostWhatItsOptionsAllow()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 64 });
        using var subscriber = new Subscriber(topic, new SubscriberOptions { MaxHeld = 2 });
        publisher.Write("1"u8, Safety.Timeout);
        publisher.Write("2"u8, Safety.Timeout);
        publisher.Write("3"u8, Safety.Timeout);
        using Sample first = subscriber.Read(Safety.Timeout);
        using Sample second = subscriber.Read(Safety.Timeout);

        InvalidOperationException tooMany = Assert.Throws<InvalidOperationException>(() => subscriber.Read(Safety.Timeout));
        Assert.Contains("MaxHeld", tooMany.Message);

        first.Dispose();
        using Sample third = subscriber.Read(Safety.Timeout);
        Assert.Equal(3UL, third.Sequence);
    }
}
