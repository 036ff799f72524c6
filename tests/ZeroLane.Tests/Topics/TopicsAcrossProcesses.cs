using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// Topics between real processes: fan-out to subscriber processes, a subscriber killed while it holds every slot, a
/// publisher killed mid-stream and replaced. Nothing of a topic stays in /dev/shm once its participants are gone.
/// </summary>
public sealed class TopicsAcrossProcesses : TopicTest
{
    private readonly List<PeerProcess> _peers = new();

    private PeerProcess Start(params string[] arguments)
    {
        PeerProcess peer = PeerProcess.Start(arguments);
        _peers.Add(peer);
        return peer;
    }

    public override void Dispose()
    {
        foreach (PeerProcess peer in _peers)
        {
            peer.Dispose();
        }
        base.Dispose();
    }

    [Fact]
    public void ThreeSubscriberProcessesEachGetEverySampleIntact()
    {
        string topic = NewTopic("tp-fan");
        const int Samples = 200;
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 8192, Slots = Samples + 1, QueueDepth = Samples });
        PeerProcess[] subscribers = Enumerable.Range(0, 3).Select(_ => Start("subscriber", topic, "--count", Samples.ToString())).ToArray();
        foreach (PeerProcess subscriber in subscribers)
        {
            subscriber.WaitForLine(PeerOutput.Ready);
        }
        Safety.Until(() => publisher.SubscriberCount == 3, "three subscribers joining");

        byte[] buffer = new byte[8192];
        for (ulong sequence = 1; sequence <= Samples; sequence++)
        {
            int length = FramePattern.VariedLength(sequence, 8192);
            FramePattern.Fill(buffer.AsSpan(0, length), sequence);
            publisher.Write(buffer.AsSpan(0, length), Safety.Timeout);
        }

        foreach (PeerProcess subscriber in subscribers)
        {
            string ok = subscriber.WaitForLine(PeerOutput.Ok);
            Assert.Contains($"samples={Samples} dropped=0", ok);
            Assert.True(subscriber.WaitForExit(), subscriber.Describe());
        }
        Assert.Equal(0, publisher.SamplesDropped);
    }

    [Fact]
    public void SubscriberProcessesFollowAPublisherProcessThatGrowsMidStream()
    {
        string topic = NewTopic("tp-grow");
        const int Samples = 300;
        PeerProcess[] subscribers = Enumerable.Range(0, 2)
            .Select(_ => Start("subscriber", topic, "--count", Samples.ToString(), "--block", "1")).ToArray();
        foreach (PeerProcess subscriber in subscribers)
        {
            subscriber.WaitForLine(PeerOutput.Ready);
        }
        // 1 KiB slots at first; the samples climb to 40 KiB, so the publisher grows six times on the way.
        PeerProcess publisher = Start("publisher", topic, "--size", "1024", "--grow-to", "40960", "--count", Samples.ToString(),
            "--subscribers", "2", "--depth", "4", "--slots", "4");
        Assert.Contains($"samples={Samples} growths=6", publisher.WaitForLine(PeerOutput.Written));

        foreach (PeerProcess subscriber in subscribers)
        {
            // Every sample once, in order, every byte as sent: none lost, torn or repeated across the growths.
            Assert.Contains($"samples={Samples} dropped=0", subscriber.WaitForLine(PeerOutput.Ok));
            Assert.True(subscriber.WaitForExit(), subscriber.Describe());
        }
    }

    [Fact]
    public void ASubscriberKilledWhileHoldingEverySlotGivesThemBack()
    {
        string topic = NewTopic("tp-subkill");
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 1024, Slots = 3, QueueDepth = 4, AcknowledgeTimeout = Safety.Timeout });
        PeerProcess subscriber = Start("subscriber", topic, "--hold-samples", "3", "--max-held", "3");
        subscriber.WaitForLine(PeerOutput.Ready);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");
        byte[] sample = new byte[1024];
        for (ulong sequence = 1; sequence <= 3; sequence++)
        {
            FramePattern.Fill(sample, sequence);
            publisher.Write(sample, Safety.Timeout);
        }
        subscriber.WaitForLine(PeerOutput.Holding);
        Assert.Equal(WriteStatus.TimedOut, publisher.TryWrite(sample, Safety.Short));

        subscriber.Kill();

        // The write finds every slot held, checks its subscribers at once, and takes back what the dead one held.
        Assert.Equal(WriteStatus.Success, publisher.TryWrite(sample, Safety.Timeout));
        Assert.Equal(0, publisher.SubscriberCount);
        Assert.DoesNotContain(Leftovers(topic), path => path.Contains($".s.{subscriber.Id}.", StringComparison.Ordinal));
        using var late = new Subscriber(topic);
        publisher.Write(sample, Safety.Timeout);
        using Sample received = late.Read(Safety.Timeout);
        Assert.Equal(5UL, received.Sequence);
    }

    [Fact]
    public void APublisherKilledMidStreamIsReportedOnceAndANewOneTakesOver()
    {
        string topic = NewTopic("tp-pubkill");
        using var subscriber = new Subscriber(topic, new SubscriberOptions { PeerCheckInterval = TimeSpan.FromMilliseconds(50) });
        PeerProcess publisher = Start("publisher", topic, "--count", "3", "--size", "512", "--subscribers", "1", "--hold");
        publisher.WaitForLine(PeerOutput.Written);
        for (ulong sequence = 1; sequence <= 3; sequence++)
        {
            using Sample sample = subscriber.Read(Safety.Timeout);
            Assert.Equal(sequence, sample.Sequence);
            Assert.Null(FramePattern.Verify(sample.Span, sequence));
        }

        publisher.Kill();

        Assert.Equal(ReadStatus.WriterDied, subscriber.TryRead(out _, Safety.Timeout));
        Assert.DoesNotContain(Leftovers(topic), path => path.Contains($".p.{publisher.Id}.", StringComparison.Ordinal));
        Assert.Equal(0, subscriber.PublisherCount);

        using var replacement = new Publisher(topic);
        Safety.Until(() => replacement.SubscriberCount == 1, "the subscriber joining the new publisher");
        replacement.Write("again"u8, Safety.Timeout);
        using Sample next = subscriber.Read(Safety.Timeout);
        Assert.Equal(replacement.Id, next.PublisherId);
        Assert.Equal(1UL, next.Sequence);
    }
}
