using ZeroLane.Messages.Codecs;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Tests.Messages.Codecs;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>Typed publishers and subscribers carry codec values as samples; a subscription calls a handler per sample.</summary>
public sealed class TypedTopicsAndCallbacks : TopicTest
{
    [Fact]
    public void ACameraFrameCrossesATopicWithItsPixelsInPlace()
    {
        string topic = NewTopic();
        using var publisher = new Publisher<CameraFrame>(topic, MultipartCodec<CameraFrame>.Instance, new PublisherOptions { MaxSampleSize = 1 << 20 });
        using var subscriber = new Subscriber<CameraFrame>(topic, MultipartCodec<CameraFrame>.Instance);
        byte[] pixels = Patterns.Create(640 * 480, 3);
        byte[] depth = Patterns.Create(640 * 480 / 2, 4);
        var sent = new CameraFrame(7, 42, 123_456, 640, 480, PixelFormat.Mono8, pixels, depth);

        publisher.Write(sent, Safety.Timeout);

        using Received<CameraFrame> received = subscriber.Read(Safety.Timeout);
        Assert.Equal(sent with { Pixels = default, Depth = default }, received.Value with { Pixels = default, Depth = default });
        Assert.True(received.Value.Pixels.Span.SequenceEqual(pixels));
        Assert.True(received.Value.Depth.Span.SequenceEqual(depth));
        Assert.Equal(publisher.Inner.Id, received.PublisherId);
        Assert.Equal(1, subscriber.Inner.SamplesHeld);
        received.Dispose();
        Assert.Equal(0, subscriber.Inner.SamplesHeld);
    }

    [Fact]
    public void ASubscriptionHandlesEverySampleOnItsOwnThreadUntilDisposed()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { Slots = 32, QueueDepth = 32 });
        using var subscriber = new Subscriber(topic);
        var seen = new List<ulong>();
        int handlerThread = 0;
        using var done = new ManualResetEventSlim();
        Subscription subscription = subscriber.Subscribe(sample =>
        {
            handlerThread = Environment.CurrentManagedThreadId;
            lock (seen)
            {
                seen.Add(sample.Sequence);
                if (seen.Count == 20)
                {
                    done.Set();
                }
            }
        });

        for (int i = 0; i < 20; i++)
        {
            publisher.Write([(byte)i], Safety.Timeout);
        }
        Safety.Wait(done, "twenty samples handled");
        subscription.Dispose();

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (ulong)i), seen);
        Assert.NotEqual(Environment.CurrentManagedThreadId, handlerThread);
        Assert.Null(subscription.Error);
        Assert.False(subscription.IsRunning);
        Assert.Equal(0, subscriber.SamplesHeld);
    }

    [Fact]
    public void AHandlerThatThrowsStopsItsSubscriptionAndSaysWhy()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic);
        using var subscriber = new Subscriber(topic);
        using Subscription subscription = subscriber.Subscribe(_ => throw new InvalidDataException("bad sample"));

        publisher.Write("x"u8, Safety.Timeout);

        Safety.Until(() => !subscription.IsRunning, "the subscription stopping");
        Assert.IsType<InvalidDataException>(subscription.Error);
        Assert.Equal(0, subscriber.SamplesHeld);
    }
}
