using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A subscriber reads every publisher of its topic (each has its own memory), synchronously or asynchronously, as raw
/// samples or as messages (a topic is a frame source and sink like a ring).
/// </summary>
public sealed class SubscribersReadEveryPublisher : TopicTest
{
    [Fact]
    public void SamplesOfSeveralPublishersAllArriveEachInItsOwnOrder()
    {
        string topic = NewTopic();
        using var first = new Publisher(topic);
        using var second = new Publisher(topic);
        using var subscriber = new Subscriber(topic, new SubscriberOptions { MaxHeld = 1 });
        Assert.Equal(2, subscriber.PublisherCount);
        Assert.NotEqual(first.Id, second.Id);

        for (int i = 1; i <= 3; i++)
        {
            first.Write([1, (byte)i], Safety.Timeout);
            second.Write([2, (byte)i], Safety.Timeout);
        }
        var seen = new Dictionary<ulong, List<ulong>> { [first.Id] = new(), [second.Id] = new() };
        for (int i = 0; i < 6; i++)
        {
            using Sample sample = subscriber.Read(Safety.Timeout);
            seen[sample.PublisherId].Add(sample.Sequence);
            Assert.Equal(sample.PublisherId == first.Id ? 1 : 2, sample.Span[0]);
        }
        Assert.Equal([1UL, 2UL, 3UL], seen[first.Id]);
        Assert.Equal([1UL, 2UL, 3UL], seen[second.Id]);

        // One of two publishers leaving is not the end of the stream.
        first.Dispose();
        second.Write([2, 4], Safety.Timeout);
        using Sample later = subscriber.Read(Safety.Timeout);
        Assert.Equal(second.Id, later.PublisherId);
        Assert.Equal(1, subscriber.PublisherCount);
    }

    [Fact]
    public async Task AnAsynchronousReadWaitsWithoutAThreadAndGetsTheNextSample()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic);
        using var subscriber = new Subscriber(topic);
        long waitsBefore = subscriber.AsyncWaitsStarted;
        Task<Sample> pending = subscriber.ReadAsync(Safety.Timeout).AsTask();
        Safety.Until(() => subscriber.AsyncWaitsStarted > waitsBefore, "the read's wait");
        Assert.False(pending.IsCompleted);

        publisher.Write("x"u8, Safety.Timeout);

        using Sample sample = await pending.WaitAsync(Safety.Timeout);
        Assert.Equal((byte)'x', sample.Span[0]);
        SampleResult timedOut = await subscriber.TryReadAsync(Safety.Short);
        Assert.Equal(ReadStatus.TimedOut, timedOut.Status);
    }

    [Fact]
    public async Task ReadAllAsyncEndsWhenTheLastPublisherLeaves()
    {
        string topic = NewTopic();
        var publisher = new Publisher(topic, new PublisherOptions { QueueDepth = 16, Slots = 17 });
        using var subscriber = new Subscriber(topic);
        for (byte i = 1; i <= 10; i++)
        {
            publisher.Write([i], Safety.Timeout);
        }
        publisher.Dispose();

        var values = new List<byte>();
        using var cancel = new CancellationTokenSource(Safety.Timeout);
        await foreach (Sample sample in subscriber.ReadAllAsync(cancel.Token))
        {
            values.Add(sample.Span[0]);
        }
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (byte)i), values);
    }

    [Fact]
    public void MessagesTravelAsSamplesWithTheirPartsInPlace()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 1 << 20 });
        using var subscriber = new Subscriber(topic);
        byte[] pixels = Patterns.Create(300_000, 9);
        using (Message outgoing = Message.CreateBuilder().WithBody("{\"camera\":1}"u8.ToArray()).AddPart(pixels).AddPart(new byte[] { 1, 2, 3 }).Build())
        {
            publisher.WriteMessage(outgoing, Safety.Timeout);
        }

        using Message incoming = subscriber.ReadMessage(Safety.Timeout);
        Assert.Equal("{\"camera\":1}", System.Text.Encoding.ASCII.GetString(incoming.Body.Span));
        Patterns.AssertMatches(incoming.GetPart(0).Span, 300_000, 9);
        Assert.Equal([1, 2, 3], incoming.GetPart(1).ToArray());
        Assert.Equal(1, subscriber.SamplesHeld);
        incoming.Dispose();
        Assert.Equal(0, subscriber.SamplesHeld);
    }
}
