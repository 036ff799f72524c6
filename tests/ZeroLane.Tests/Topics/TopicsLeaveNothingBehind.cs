using Xunit.Abstractions;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A thousand join/leave cycles in this process, and publishers and subscribers in child processes killed with SIGKILL
/// and cleaned up by the topic's next participant, leave nothing in /dev/shm and no descriptor or mapping behind.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class TopicsLeaveNothingBehind(ITestOutputHelper output) : TopicTest
{
    private const int Cycles = 1000;
    private const int Kills = 10;
    private const int DescriptorSlack = 16;
    private const int MappingSlack = 64;

    [Fact]
    public void JoinLeaveCyclesAndKilledParticipantsLeaveNothingBehind()
    {
        string topic = NewTopic("tp-leak");
        var options = new PublisherOptions { MaxSampleSize = 256, Slots = 4 };
        for (int i = 0; i < 20; i++)
        {
            Cycle(topic, options);
        }
        KillAndClean(topic, options);
        (int descriptorsBefore, int mappingsBefore) = Measure();

        for (int i = 0; i < Cycles; i++)
        {
            Cycle(topic, options);
        }
        for (int i = 0; i < Kills; i++)
        {
            KillAndClean(topic, options);
        }

        (int descriptorsAfter, int mappingsAfter) = Measure();
        output.WriteLine($"descriptors {descriptorsBefore} -> {descriptorsAfter}, mappings {mappingsBefore} -> {mappingsAfter}");
        Assert.Empty(Leftovers(topic));
        Assert.InRange(descriptorsAfter, 0, descriptorsBefore + DescriptorSlack);
        Assert.InRange(mappingsAfter, 0, mappingsBefore + MappingSlack);
    }

    /// <summary>A publisher and two subscribers join, pass a sample, and leave in varying orders.</summary>
    private static void Cycle(string topic, PublisherOptions options)
    {
        var publisher = new Publisher(topic, options);
        var first = new Subscriber(topic);
        using (var second = new Subscriber(topic))
        {
            publisher.Write("s"u8, Safety.Timeout);
            first.Read(Safety.Timeout).Dispose();
            Sample held = second.Read(Safety.Timeout);
            // The subscriber leaves holding a sample; the publisher takes it back at its next write.
            _ = held;
        }
        publisher.Write("t"u8, Safety.Timeout);
        first.Read(Safety.Timeout).Dispose();
        publisher.Dispose();
        Assert.Equal(ReadStatus.WriterDisconnected, first.TryRead(out _, Safety.Timeout));
        first.Dispose();
    }

    /// <summary>A publisher and a subscriber in child processes are killed; the topic's next participants remove what they left.</summary>
    private void KillAndClean(string topic, PublisherOptions options)
    {
        using (PeerProcess subscriber = PeerProcess.Start("subscriber", topic, "--hold-samples", "1"))
        using (PeerProcess publisher = PeerProcess.Start("publisher", topic, "--count", "1", "--size", "256", "--subscribers", "1", "--hold"))
        {
            subscriber.WaitForLine(PeerOutput.Holding);
            publisher.Kill();
            subscriber.Kill();
        }
        Assert.NotEmpty(Leftovers(topic));
        Cycle(topic, options);
    }

    [Fact]
    public void APublisherSemaphoreLeftWithoutItsSegmentByAKilledProcessIsRemovedByTheNextParticipant()
    {
        string topic = NewTopic("tp-orphan");
        using (PeerProcess publisher = PeerProcess.Start("publisher", topic, "--count", "0", "--hold"))
        {
            publisher.WaitForLine(PeerOutput.Ready);
            publisher.Kill();
        }
        // What a process killed half-way through removing the dead publisher's objects leaves: the semaphore alone.
        string segment = Assert.Single(Leftovers(topic), path => Path.GetFileName(path).StartsWith("zlt.", StringComparison.Ordinal));
        File.Delete(segment);
        Assert.Single(Leftovers(topic));

        new Subscriber(topic).Dispose();

        Assert.Empty(Leftovers(topic));
    }

    private static (int Descriptors, int Mappings) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return (Directory.GetFileSystemEntries("/proc/self/fd").Length, File.ReadLines("/proc/self/maps").Count());
    }
}
