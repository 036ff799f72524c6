using Xunit.Abstractions;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// Publishers and subscribers in child processes killed with SIGKILL at random points of a stream, round after round: the
/// survivors are told (a publisher's death), get their memory back (a subscriber's death), and never receive a torn,
/// duplicated or out-of-order sample; every byte of every sample is checked against its sequence (FramePattern). The kill
/// points come from the test's <see cref="TestSeed"/> (replay with ZEROLANE_TEST_SEED); nothing asserts a duration.
/// </summary>
public sealed class RandomKillsNeverTearOrDuplicateSamples(ITestOutputHelper output) : TopicTest
{
    private const int Rounds = 6;
    private const int SampleSize = 4096;

    private readonly TestSeed _seed = TestSeed.For(output);
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

    /// <summary>Every sample intact (its bytes are those of its sequence) and, per publisher, sequences strictly rising.</summary>
    private sealed class StreamCheck
    {
        private readonly Dictionary<ulong, ulong> _last = new();

        internal long Samples { get; private set; }

        internal void Check(in Sample sample, string who)
        {
            ulong last = _last.GetValueOrDefault(sample.PublisherId);
            Assert.True(sample.Sequence > last, $"{who}: sample {sample.Sequence} of publisher {sample.PublisherId:x} after {last} (duplicated or out of order)");
            _last[sample.PublisherId] = sample.Sequence;
            Assert.True(FramePattern.Verify(sample.Span, sample.Sequence) is null,
                $"{who}: sample {sample.Sequence} ({sample.Length} B) is torn: {FramePattern.Verify(sample.Span, sample.Sequence)}");
            Samples++;
        }
    }

    [Fact]
    public void PublishersKilledAtRandomPointsAreReportedAndANewOneTakesOverEachTime()
    {
        string topic = NewTopic("tp-rkpub");
        Random random = _seed.NewRandom();
        var fast = TimeSpan.FromMilliseconds(20);
        // One subscriber reads as samples come; the other reads nothing until the publisher is dead (its queue overflows).
        Subscriber keeper = Own(new Subscriber(topic, new SubscriberOptions { PeerCheckInterval = fast, MaxHeld = 2 }));
        Subscriber laggard = Own(new Subscriber(topic, new SubscriberOptions { PeerCheckInterval = fast }));
        var keeperCheck = new StreamCheck();
        var laggardCheck = new StreamCheck();
        var publishers = new HashSet<ulong>();

        for (int round = 0; round < Rounds; round++)
        {
            PeerProcess publisher = Own(PeerProcess.Start("publisher", topic, "--size", SampleSize.ToString(), "--slots", "16", "--depth", "8",
                "--subscribers", "2", "--count", "1", "--forever", "--every-ms", "1"));
            int killAfter = random.Next(1, 150);
            ulong publisherId = 0;
            for (int i = 0; i < killAfter; i++)
            {
                using Sample sample = keeper.Read(Safety.Timeout);
                keeperCheck.Check(sample, "keeper");
                publisherId = sample.PublisherId;
            }
            Assert.True(publishers.Add(publisherId), $"round {round}: publisher {publisherId:x} is not new");
            // A random moment within the next writes.
            Thread.Sleep(random.Next(0, 4));

            publisher.Kill();

            int keeperTail = ReadUntilDeath(keeper, keeperCheck, publisherId, "keeper");
            int laggardTail = ReadUntilDeath(laggard, laggardCheck, publisherId, "laggard");
            output.WriteLine($"round {round}: killed after {killAfter} samples; then keeper read {keeperTail}, laggard {laggardTail} before WriterDied");
            Assert.DoesNotContain(Leftovers(topic), path => path.Contains($".p.{publisher.Id}.", StringComparison.Ordinal));
            Assert.Equal(0, keeper.PublisherCount);
        }

        // A publisher in this process takes over last; both subscribers receive from it.
        using var last = new Publisher(topic, new PublisherOptions { MaxSampleSize = SampleSize });
        Safety.Until(() => last.SubscriberCount == 2, "both subscribers joining the last publisher");
        byte[] buffer = new byte[64];
        FramePattern.Fill(buffer, 1);
        last.Write(buffer, Safety.Timeout);
        foreach ((Subscriber subscriber, StreamCheck check, string who) in new[] { (keeper, keeperCheck, "keeper"), (laggard, laggardCheck, "laggard") })
        {
            using Sample sample = subscriber.Read(Safety.Timeout);
            Assert.Equal(last.Id, sample.PublisherId);
            check.Check(sample, who);
        }
    }

    /// <summary>Reads what the killed publisher had queued (each checked), then expects WriterDied; returns how many it read.</summary>
    private static int ReadUntilDeath(Subscriber subscriber, StreamCheck check, ulong publisherId, string who)
    {
        for (int read = 0; ; read++)
        {
            ReadStatus status = subscriber.TryRead(out Sample sample, Safety.Timeout);
            if (status != ReadStatus.Success)
            {
                Assert.Equal(ReadStatus.WriterDied, status);
                return read;
            }
            using (sample)
            {
                Assert.Equal(publisherId, sample.PublisherId);
                check.Check(sample, who);
            }
            Assert.True(read < 64, $"{who} kept reading samples of a killed publisher");
        }
    }

    [Fact]
    public void SubscribersKilledAtRandomPointsGiveTheirSlotsBackAndTheOthersMissNothing()
    {
        string topic = NewTopic("tp-rksub");
        Random random = _seed.NewRandom();
        Publisher publisher = Own(new Publisher(topic, new PublisherOptions
        {
            MaxSampleSize = SampleSize,
            Slots = 12,
            QueueDepth = 4,
            AcknowledgeTimeout = Safety.Timeout,
            PeerCheckInterval = TimeSpan.FromMilliseconds(50),
        }));
        PublisherSegmentView view = Own(PublisherSegmentView.Of(publisher));
        // Observers make the publisher wait for them rather than drop: they must see every sample.
        Subscriber[] observers = Enumerable.Range(0, 2)
            .Select(_ => Own(new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher })))
            .ToArray();
        Task<long>[] reading = observers.Select((observer, index) => Safety.OnThread(() => ReadEverySample(observer, $"observer {index}"))).ToArray();
        Safety.Until(() => publisher.SubscriberCount == 2, "the observers joining");

        ulong sequence = 0;
        byte[] buffer = new byte[SampleSize];
        void PublishOne()
        {
            sequence++;
            Span<byte> sample = buffer.AsSpan(0, FramePattern.VariedLength(sequence, SampleSize));
            FramePattern.Fill(sample, sequence);
            publisher.Write(sample, Safety.Timeout);
        }

        for (int round = 0; round < Rounds; round++)
        {
            int keep = random.Next(1, 4);
            PeerProcess victim = Own(PeerProcess.Start("subscriber", topic, "--hold-rolling", keep.ToString(), "--max-held", "4"));
            victim.WaitForLine(PeerOutput.Ready);
            Safety.Until(() => publisher.SubscriberCount == 3, $"round {round}: the victim joining");
            int published = 0;
            Safety.Until(() =>
            {
                PublishOne();
                published++;
                return victim.Output.Any(line => PeerOutput.Is(line, PeerOutput.Holding));
            }, $"round {round}: the victim holding {keep} samples");
            int more = random.Next(0, 200);
            for (int i = 0; i < more; i++)
            {
                PublishOne();
            }

            victim.Kill();

            // Its entry, bits and queue come back at the publisher's next liveness check, which a write makes.
            int after = 0;
            Safety.Until(() =>
            {
                PublishOne();
                after++;
                return publisher.SubscriberCount == 2;
            }, $"round {round}: the publisher taking back what the killed subscriber held");
            output.WriteLine($"round {round}: victim holding {keep} killed after {published + more} samples; its slots came back within {after} more writes");
            Assert.DoesNotContain(victim.Output, line => PeerOutput.Is(line, PeerOutput.Error));
            ulong observerBits = 0;
            for (int entry = 0; entry < view.Geometry.MaxSubscribers; entry++)
            {
                if (observers.Any(observer => observer.Id == view.EntryId(entry)))
                {
                    observerBits |= 1UL << entry;
                }
                else
                {
                    Assert.Equal(0UL, view.EntryPid(entry));
                }
            }
            for (int slot = 0; slot < view.Geometry.SlotCount; slot++)
            {
                Assert.True((view.Holders(slot) & ~observerBits) == 0, $"round {round}: slot {slot} still has holders {view.Holders(slot):x} beside the observers' {observerBits:x}");
            }
            Assert.DoesNotContain(Leftovers(topic), path => path.Contains($".s.{victim.Id}.", StringComparison.Ordinal));
        }

        publisher.Dispose();
        foreach (Task<long> task in reading)
        {
            Assert.Equal((long)sequence, Safety.Join(task, "an observer"));
        }
        Assert.All(observers, observer => Assert.Equal(0, observer.SamplesDropped));
    }

    /// <summary>Reads until the publisher leaves, checking that sequences run 1, 2, 3... with every byte right; returns the count.</summary>
    private static long ReadEverySample(Subscriber subscriber, string who)
    {
        var check = new StreamCheck();
        ulong expected = 1;
        while (true)
        {
            ReadStatus status = subscriber.TryRead(out Sample sample, Safety.Timeout);
            if (status == ReadStatus.WriterDisconnected)
            {
                return check.Samples;
            }
            Assert.Equal(ReadStatus.Success, status);
            using (sample)
            {
                Assert.True(sample.Sequence == expected, $"{who}: sample {sample.Sequence} where {expected} was due (a sample was lost or repeated)");
                check.Check(sample, who);
                expected++;
            }
        }
    }
}
