using Xunit.Abstractions;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A real publisher segment whose header, subscriber entries, queues, slots or history ring someone overwrote with
/// impossible values: a subscriber joining or reading, and the publisher reading what subscribers write there, get a
/// <see cref="BufferCorruptedException"/> (or <see cref="IncompatibleBufferException"/> for a foreign magic or version)
/// that names the segment; never an access outside the mapping, never a hang (every call that could hang runs on a thread
/// the test waits for with a safety limit). A subscriber that fails to join leaves nothing behind.
/// </summary>
public sealed class HostileControlBlocksAreClearErrors(ITestOutputHelper output) : TopicTest
{
    private const int Slots = 4;
    private const int Depth = 4;
    private const int SampleSize = 256;

    private readonly List<IDisposable> _owned = new();

    public override void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
        base.Dispose();
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private (string Topic, Publisher Publisher, PublisherSegmentView View) NewPublisher(int slots = Slots, int depth = Depth, int history = 0)
    {
        string topic = NewTopic("tp-hostile");
        Publisher publisher = Own(new Publisher(topic, new PublisherOptions
        {
            MaxSampleSize = SampleSize,
            Slots = slots,
            QueueDepth = depth,
            History = history,
            MaxSubscribers = 4,
            AcknowledgeTimeout = TimeSpan.FromMilliseconds(200),
        }));
        return (topic, publisher, Own(PublisherSegmentView.Of(publisher)));
    }

    /// <summary>Runs <paramref name="call"/> on a thread of its own, so that a hang fails the test rather than stopping the run.</summary>
    private static Exception? Outcome(Action call, string what)
    {
        Task task = Safety.OnThread(call);
        Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(Safety.Timeout), $"{what} hung (still running after {Safety.Timeout.TotalSeconds} s)");
        return task.Exception?.InnerException;
    }

    private static void AssertCorruptionNaming(Exception? error, PublisherSegmentView view, string what)
    {
        Assert.True(error is BufferCorruptedException, $"{what}: expected a BufferCorruptedException, got {error?.ToString() ?? "no error"}");
        Assert.Contains(view.Name, error!.Message, StringComparison.Ordinal);
    }

    private static void Publish(Publisher publisher, int count)
    {
        byte[] sample = new byte[SampleSize];
        for (int i = 0; i < count; i++)
        {
            sample.AsSpan().Fill((byte)(i + 1));
            publisher.Write(sample, Safety.Timeout);
        }
    }

    private void AssertNoSubscriberLeft(string topic) =>
        Assert.DoesNotContain(Leftovers(topic), path => path.Contains($"zlt.{topic}.s.", StringComparison.Ordinal));

    public static TheoryData<string, int, int, ulong> ImpossibleHeaders => new()
    {
        { "no subscriber entries", TopicLayout.MaxSubscribers, 4, 0 },
        { "64 subscriber entries", TopicLayout.MaxSubscribers, 4, 64 },
        { "2^32-1 subscriber entries", TopicLayout.MaxSubscribers, 4, uint.MaxValue },
        { "no slots", TopicLayout.SlotCount, 4, 0 },
        { "2^21 slots", TopicLayout.SlotCount, 4, 1 << 21 },
        { "2^32-1 slots", TopicLayout.SlotCount, 4, uint.MaxValue },
        { "more slots than the mapping holds", TopicLayout.SlotCount, 4, 1000 },
        { "slots of 0 bytes", TopicLayout.SlotCapacity, 8, 0 },
        { "slots of an unaligned size", TopicLayout.SlotCapacity, 8, 100 },
        { "slots larger than the mapping", TopicLayout.SlotCapacity, 8, 1 << 20 },
        { "slots of 2^40 bytes", TopicLayout.SlotCapacity, 8, 1UL << 40 },
        { "slots of 2^64-64 bytes", TopicLayout.SlotCapacity, 8, ulong.MaxValue - 63 },
        { "queues of depth 0", TopicLayout.QueueDepth, 4, 0 },
        { "queues deeper than 2^16", TopicLayout.QueueDepth, 4, (1 << 16) + 1 },
        { "queues deeper than the mapping holds", TopicLayout.QueueDepth, 4, 60_000 },
        { "a history of 27", TopicLayout.HistoryCapacity, 4, 27 },
        { "a history as large as the slots", TopicLayout.HistoryCapacity, 4, Slots },
        { "a history of 2^32-1", TopicLayout.HistoryCapacity, 4, uint.MaxValue },
        { "state 3", TopicLayout.State, 4, 3 },
        { "state 2^32-1", TopicLayout.State, 4, uint.MaxValue },
    };

    [Theory]
    [MemberData(nameof(ImpossibleHeaders))]
    public void ASubscriberRefusesAHeaderWithImpossibleSizesNamingTheSegment(string what, int offset, int width, ulong value)
    {
        (string topic, _, PublisherSegmentView view) = NewPublisher();
        Write(view, offset, width, value);

        Exception? error = Outcome(() => new Subscriber(topic).Dispose(), $"joining a segment with {what}");

        AssertCorruptionNaming(error, view, $"a header with {what}");
        AssertNoSubscriberLeft(topic);
    }

    [Theory]
    [InlineData(TopicLayout.Magic, 0x12345678u)]
    [InlineData(TopicLayout.Version, 0x0100_0002u)]
    public void ASubscriberRefusesAForeignMagicOrVersionAsIncompatible(int offset, uint value)
    {
        (string topic, _, PublisherSegmentView view) = NewPublisher();
        view.Region.WriteUInt32Release(offset, value);

        Exception? error = Outcome(() => new Subscriber(topic).Dispose(), "joining a foreign segment");

        Assert.True(error is IncompatibleBufferException, $"expected IncompatibleBufferException, got {error}");
        Assert.Contains(view.Name, error!.Message, StringComparison.Ordinal);
        AssertNoSubscriberLeft(topic);
    }

    [Fact]
    public void AJoinerMeetingAHistoryRingThatNamesNoSlotGetsACorruptionError()
    {
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher(history: 2);
        Publish(publisher, 3);
        view.Region.WriteUInt32Release(TopicLayout.HistoryRing + 4 * (long)((view.HistoryHead - 1) % 2), 0xFFFF);

        Exception? error = Outcome(() => new Subscriber(topic).Dispose(), "joining with a corrupt history ring");

        AssertCorruptionNaming(error, view, "a history ring naming slot 65535");
        AssertNoSubscriberLeft(topic);
    }

    [Theory]
    [InlineData(Slots)]
    [InlineData(Slots + 1)]
    [InlineData(0x7FFF_FFFF)]
    [InlineData(0xFFFF_FFFF)]
    public void AReaderWhoseQueueNamesNoSlotGetsACorruptionError(uint slot)
    {
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher();
        Subscriber subscriber = Own(new Subscriber(topic));
        Publish(publisher, 1);
        view.Region.WriteUInt32Release(view.QueuePosition(0, view.Head(0)), slot);

        Exception? error = Outcome(() => subscriber.TryRead(out _, Safety.Short), "reading a queue that names no slot");

        AssertCorruptionNaming(error, view, $"a queue naming slot {slot}");
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(SampleSize + 1UL)]
    [InlineData(1UL << 40)]
    [InlineData(ulong.MaxValue)]
    public void AReaderOfASlotWithAnImpossibleLengthGetsACorruptionError(ulong length)
    {
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher();
        Subscriber subscriber = Own(new Subscriber(topic));
        Publish(publisher, 1);
        int slot = view.SlotOf(1);
        view.Region.WriteUInt64Release(view.SlotField(slot, TopicLayout.SlotLength), length);

        Exception? error = Outcome(() => subscriber.TryRead(out _, Safety.Short), "reading a slot of impossible length");

        AssertCorruptionNaming(error, view, $"a slot of {length} bytes");
    }

    [Theory]
    [InlineData("a tail past head + depth", Depth + 1L)]
    [InlineData("a head past the tail", -1L)]
    [InlineData("a head 2^63 behind the tail", long.MinValue)]
    public void AReaderWhoseQueueHoldsMoreThanItsDepthGetsACorruptionError(string what, long excess)
    {
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher();
        Subscriber subscriber = Own(new Subscriber(topic));
        Publish(publisher, 1);
        view.Region.WriteUInt64Release(view.EntryField(0, TopicLayout.EntryTail), view.Head(0) + unchecked((ulong)excess));

        Exception? error = Outcome(() => subscriber.TryRead(out _, Safety.Short), $"reading a queue with {what}");

        AssertCorruptionNaming(error, view, what);
    }

    [Fact]
    public void AHistoryRewrittenAfterJoiningIsNeverReadOutsideTheMapping()
    {
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher(slots: 6, history: 2);
        Publish(publisher, 2);
        Subscriber subscriber = Own(new Subscriber(topic));
        // The joiner goes on looking at the history until the publisher queues something for it: make that look hostile.
        view.Region.WriteUInt32Release(TopicLayout.HistoryCapacity, uint.MaxValue);
        view.Region.WriteUInt64Release(TopicLayout.HistoryHead, 1UL << 40);

        var sequences = new List<ulong>();
        Exception? error = Outcome(() =>
        {
            while (subscriber.TryRead(out Sample sample, Safety.Short) == ReadStatus.Success)
            {
                using (sample)
                {
                    sequences.Add(sample.Sequence);
                }
            }
        }, "reading after the history was rewritten");

        output.WriteLine($"read {string.Join(',', sequences)}; {error?.GetType().Name ?? "no error"}");
        Assert.True(error is null or BufferCorruptedException, $"expected the kept samples or a corruption error, got {error}");
        Assert.Equal([1UL, 2UL], sequences.Take(2));
    }

    [Theory]
    [InlineData(Slots)]
    [InlineData(0xFFFF_FFFF)]
    public void APublisherDroppingFromAQueueThatNamesNoSlotGetsACorruptionError(uint slot)
    {
        // Two slots, both queued for a subscriber that reads nothing: the next write drops the oldest, reading the queue.
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher(slots: 2);
        Own(new Subscriber(topic));
        Publish(publisher, 2);
        view.Region.WriteUInt32Release(view.QueuePosition(0, view.Head(0)), slot);

        Exception? error = Outcome(() => publisher.TryWrite(new byte[8], Safety.Short), "a write that drops from a corrupt queue");

        AssertCorruptionNaming(error, view, $"a queue naming slot {slot} (dropping for a free slot)");
    }

    [Fact]
    public void APublisherDroppingTheHeadOfAFullQueueThatNamesNoSlotGetsACorruptionError()
    {
        // Queues of one: the second write finds the subscriber's queue full and drops its head.
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher(depth: 1);
        Own(new Subscriber(topic));
        Publish(publisher, 1);
        view.Region.WriteUInt32Release(view.QueuePosition(0, view.Head(0)), 0xFFFF_FFFF);

        Exception? error = Outcome(() => publisher.TryWrite(new byte[8], Safety.Short), "a write to a full queue that names no slot");

        AssertCorruptionNaming(error, view, "a full queue naming slot 2^32-1");
    }

    [Theory]
    [InlineData("a head past the tail", 5L)]
    [InlineData("a head 2^63 past the tail", long.MinValue)]
    public void APublisherWhoseSubscriberMovedItsHeadPastTheTailGetsACorruptionErrorNotAHang(string what, long ahead)
    {
        (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher();
        Own(new Subscriber(topic));
        Publish(publisher, 1);
        view.Region.WriteUInt64Release(view.EntryField(0, TopicLayout.EntryHead), view.Tail(0) + unchecked((ulong)ahead));

        Exception? error = Outcome(() => publisher.TryWrite(new byte[8], Safety.Short), $"a write with {what}");

        AssertCorruptionNaming(error, view, what);
    }

    [Fact]
    public void RandomValuesInAnyFieldAreAClearErrorOrHarmless()
    {
        var seed = TestSeed.For(output);
        Random random = seed.NewRandom();
        var outcomes = new Dictionary<string, int>();
        for (int round = 0; round < 40; round++)
        {
            (string topic, Publisher publisher, PublisherSegmentView view) = NewPublisher(history: round % 2);
            Subscriber first = Own(new Subscriber(topic));
            Publish(publisher, 3);
            int fields = random.Next(1, 4);
            var changed = new List<string>();
            for (int i = 0; i < fields; i++)
            {
                changed.Add(Scribble(view, random));
            }

            // Whatever happened, each side either works, says the segment is corrupt, or finds nothing; nothing hangs or crashes.
            string joined = Describe(Outcome(() => Own(new Subscriber(topic)).TryRead(out _, Safety.Short), "a joiner"), view);
            string read = Describe(Outcome(() => first.TryRead(out _, Safety.Short), "a reader"), view);
            string wrote = Describe(Outcome(() => publisher.TryWrite(new byte[8], Safety.Short), "the publisher"), view);
            output.WriteLine($"round {round}: {string.Join(", ", changed)} -> join {joined}, read {read}, write {wrote}");
            foreach (string outcome in new[] { joined, read, wrote })
            {
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }
        output.WriteLine(string.Join(", ", outcomes.Select(pair => $"{pair.Key} {pair.Value}")));
    }

    private static string Describe(Exception? error, PublisherSegmentView view)
    {
        if (error is null)
        {
            return "ok";
        }
        Assert.True(error is BufferCorruptedException or IncompatibleBufferException,
            $"expected a clear corruption error, got {error}");
        Assert.Contains(view.Name, error.Message, StringComparison.Ordinal);
        return error.GetType().Name;
    }

    /// <summary>Overwrites one field (header, entry 0 or 1, queue 0, a slot, the history ring) with a random or edge value.</summary>
    private static string Scribble(PublisherSegmentView view, Random random)
    {
        (string name, long offset, int width)[] fields =
        [
            ("max subscribers", TopicLayout.MaxSubscribers, 4),
            ("slot count", TopicLayout.SlotCount, 4),
            ("slot capacity", TopicLayout.SlotCapacity, 8),
            ("queue depth", TopicLayout.QueueDepth, 4),
            ("state", TopicLayout.State, 4),
            ("history capacity", TopicLayout.HistoryCapacity, 4),
            ("history head", TopicLayout.HistoryHead, 8),
            ("history ring 0", TopicLayout.HistoryRing, 4),
            ("entry 0 state", view.EntryField(0, TopicLayout.EntryState), 4),
            ("entry 0 flags", view.EntryField(0, TopicLayout.EntryFlags), 4),
            ("entry 0 history from", view.EntryField(0, TopicLayout.EntryHistoryFrom), 8),
            ("entry 0 head", view.EntryField(0, TopicLayout.EntryHead), 8),
            ("entry 0 tail", view.EntryField(0, TopicLayout.EntryTail), 8),
            ("entry 1 pid", view.EntryField(1, TopicLayout.EntryPid), 8),
            ("entry 1 state", view.EntryField(1, TopicLayout.EntryState), 4),
            ("queue 0 position 0", view.QueuePosition(0, 0), 4),
            ("queue 0 position 1", view.QueuePosition(0, 1), 4),
            ("slot 0 holders", view.SlotField(0, TopicLayout.SlotHolders), 8),
            ("slot 1 length", view.SlotField(1, TopicLayout.SlotLength), 8),
            ("slot 2 sequence", view.SlotField(2, TopicLayout.SlotSequence), 8),
        ];
        (string name, long offset, int width) = fields[random.Next(fields.Length)];
        ulong[] edges = [0, 1, 2, 3, 4, 5, 63, 64, 255, 1 << 16, uint.MaxValue, (ulong)long.MaxValue, ulong.MaxValue];
        ulong value = random.Next(3) switch
        {
            0 => edges[random.Next(edges.Length)],
            1 => (ulong)random.Next(0, 64),
            _ => (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1),
        };
        Write(view, offset, width, value);
        return $"{name} = {value}";
    }

    private static void Write(PublisherSegmentView view, long offset, int width, ulong value)
    {
        if (width == 4)
        {
            view.Region.WriteUInt32Release(offset, (uint)value);
        }
        else
        {
            view.Region.WriteUInt64Release(offset, value);
        }
    }
}
