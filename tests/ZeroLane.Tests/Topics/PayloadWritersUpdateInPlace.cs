using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A payload writer's WriteModified is called exactly when the slot holds the publisher's previous sample byte for byte
/// at the same size, which with subscribers that keep up is every send after the first, whatever the number of slots.
/// </summary>
public sealed class PayloadWritersUpdateInPlace : TopicTest
{
    /// <summary>Writes a counter into byte <c>n % size</c> of an otherwise fixed pattern, and checks what WriteModified is given.</summary>
    private sealed class CountingWriter(int size) : IPayloadWriter
    {
        private byte[]? _previous;

        internal int Counter { get; set; }

        internal int Full { get; private set; }

        internal int Modified { get; private set; }

        internal bool Abandon { get; set; }

        public int GetSize() => size;

        public bool WriteFull(Span<byte> buffer)
        {
            Full++;
            Patterns.Fill(buffer, 7);
            Apply(buffer);
            return Finish(buffer);
        }

        public bool WriteModified(Span<byte> buffer)
        {
            Modified++;
            Assert.NotNull(_previous);
            Assert.True(buffer.SequenceEqual(_previous), "WriteModified was given a slot that does not hold the previous sample");
            Apply(buffer);
            return Finish(buffer);
        }

        private void Apply(Span<byte> buffer) => buffer[Counter % size] = (byte)Counter;

        private bool Finish(Span<byte> buffer)
        {
            if (Abandon)
            {
                return false;
            }
            _previous = buffer.ToArray();
            return true;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(8)]
    public void EverySendAfterTheFirstIsAModifiedWriteWhenSubscribersKeepUp(int slots)
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 8192, Slots = slots });
        using var first = new Subscriber(topic);
        using var second = new Subscriber(topic);
        var writer = new CountingWriter(8192);

        for (int n = 1; n <= 50; n++)
        {
            writer.Counter = n;
            Assert.True(publisher.Write(writer, Safety.Timeout));
            foreach (Subscriber subscriber in new[] { first, second })
            {
                using Sample sample = subscriber.Read(Safety.Timeout);
                Assert.Equal((byte)n, sample.Span[n % 8192]);
            }
        }

        Assert.Equal(1, writer.Full);
        Assert.Equal(49, writer.Modified);
        Assert.Equal(1, publisher.FullWrites);
        Assert.Equal(49, publisher.ModifiedWrites);
    }

    [Fact]
    public void AWriteFullFollowsWhenTheSlotOfThePreviousSampleIsStillHeld()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 256, Slots = 4 });
        using var subscriber = new Subscriber(topic);
        var writer = new CountingWriter(256) { Counter = 1 };
        publisher.Write(writer, Safety.Timeout);
        using Sample held = subscriber.Read(Safety.Timeout);
        byte[] before = held.Span.ToArray();

        writer.Counter = 2;
        publisher.Write(writer, Safety.Timeout);

        Assert.Equal(2, writer.Full);
        Assert.Equal(0, writer.Modified);
        Assert.Equal(before, held.Span.ToArray());
    }

    [Fact]
    public void AnAbandonedSampleIsNotPublishedAndTheNextIsWrittenWhole()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 256, Slots = 2 });
        using var subscriber = new Subscriber(topic);
        var writer = new CountingWriter(256) { Counter = 1 };
        publisher.Write(writer, Safety.Timeout);
        subscriber.Read(Safety.Timeout).Dispose();

        writer.Counter = 2;
        writer.Abandon = true;
        Assert.False(publisher.Write(writer, Safety.Timeout));
        Assert.Equal(ReadStatus.TimedOut, subscriber.TryRead(out _, Safety.Short));

        writer.Counter = 3;
        writer.Abandon = false;
        Assert.True(publisher.Write(writer, Safety.Timeout));
        using Sample sample = subscriber.Read(Safety.Timeout);
        Assert.Equal(2UL, sample.Sequence);
        Assert.Equal(2, writer.Full);
        Assert.Equal(1, writer.Modified);
    }

    [Fact]
    public void ADifferentSizeIsAlwaysWrittenWhole()
    {
        string topic = NewTopic();
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 256 });
        var big = new CountingWriter(200) { Counter = 1 };
        var small = new CountingWriter(100) { Counter = 2 };

        publisher.Write(big, Safety.Timeout);
        publisher.Write(small, Safety.Timeout);

        Assert.Equal(1, big.Full);
        Assert.Equal(1, small.Full);
        Assert.Equal(0, big.Modified + small.Modified);
    }
}
