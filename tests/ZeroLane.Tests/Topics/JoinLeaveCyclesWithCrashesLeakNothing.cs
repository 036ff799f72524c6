using Xunit.Abstractions;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A thousand subscriber join/leave cycles on long-lived publishers, where the subscriber leaves in one of five ways:
/// after reading and releasing, without reading, while holding a sample, or dying (a made-up process, see
/// <see cref="SimulatedProcesses"/>) with or without samples; every hundred cycles the publisher is replaced, and a
/// publisher and a subscriber in child processes are killed with SIGKILL mid-stream. Afterwards nothing of the topic is
/// in /dev/shm or /tmp/zerobuffer, and this process has as many descriptors and mappings as before (a small slack for
/// the runtime, not growth per cycle).
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class JoinLeaveCyclesWithCrashesLeakNothing(ITestOutputHelper output) : TopicTest
{
    private const int Cycles = 1000;
    private const int CyclesPerPublisher = 100;
    private const int ChildKills = 5;
    private const int DescriptorSlack = 16;
    private const int MappingSlack = 64;

    private readonly SimulatedProcesses _processes = new();

    [Fact]
    public void AThousandCyclesWithCrashesLeaveNoObjectDescriptorOrMapping()
    {
        string topic = NewTopic("tp-cycles");
        var options = new PublisherOptions
        {
            MaxSampleSize = 256,
            Slots = 6,
            MaxSubscribers = 63,
            PeerCheckInterval = TimeSpan.FromMilliseconds(1),
        };
        Block(topic, options, cycles: 50);
        (int descriptorsBefore, int mappingsBefore) = Measure();

        for (int done = 0; done < Cycles; done += CyclesPerPublisher)
        {
            Block(topic, options, CyclesPerPublisher);
            if (done / CyclesPerPublisher < ChildKills)
            {
                KillChildrenMidStream(topic);
            }
        }
        // The next participant removes what the last killed children left.
        Block(topic, options, cycles: 1);

        (int descriptorsAfter, int mappingsAfter) = Measure();
        output.WriteLine($"descriptors {descriptorsBefore} -> {descriptorsAfter}, mappings {mappingsBefore} -> {mappingsAfter}");
        Assert.Empty(Leftovers(topic));
        Assert.Empty(LockDirectoryLeftovers(topic));
        Assert.InRange(descriptorsAfter, 0, descriptorsBefore + DescriptorSlack);
        Assert.InRange(mappingsAfter, 0, mappingsBefore + MappingSlack);
    }

    /// <summary>One publisher for <paramref name="cycles"/> subscriber cycles; then it leaves, and the dead subscribers are let go.</summary>
    private void Block(string topic, PublisherOptions options, int cycles)
    {
        var dead = new List<Subscriber>();
        try
        {
            using (var publisher = new Publisher(topic, options, _processes.Real()))
            {
                for (int cycle = 0; cycle < cycles; cycle++)
                {
                    Cycle(topic, publisher, cycle, dead);
                }
                // Its next write takes back the entries of subscribers that left or died.
                Safety.Until(() =>
                {
                    publisher.Write("x"u8, Safety.Timeout);
                    return publisher.SubscriberCount == 0 && AllEntriesFree(publisher);
                }, "the publisher taking back every departed subscriber's entry");
            }
        }
        finally
        {
            // Dead subscribers did nothing; with the publisher gone, disposing them only lets go of their own objects.
            dead.ForEach(subscriber => subscriber.Dispose());
        }
    }

    private static bool AllEntriesFree(Publisher publisher)
    {
        using PublisherSegmentView view = PublisherSegmentView.Of(publisher);
        return Enumerable.Range(0, view.Geometry.MaxSubscribers).All(entry => view.EntryPid(entry) == 0);
    }

    private void Cycle(string topic, Publisher publisher, int cycle, List<Subscriber> dead)
    {
        SimulatedProcesses.Platform platform = _processes.Spawn();
        var subscriber = new Subscriber(topic, new SubscriberOptions(), platform);
        try
        {
            publisher.Write("a"u8, Safety.Timeout);
            publisher.Write("b"u8, Safety.Timeout);
            switch (cycle % 5)
            {
                case 0:
                    subscriber.Read(Safety.Timeout).Dispose();
                    subscriber.Dispose();
                    break;
                case 1:
                    subscriber.Dispose();
                    break;
                case 2:
                    _ = subscriber.Read(Safety.Timeout);
                    subscriber.Dispose();
                    break;
                case 3:
                    _ = subscriber.Read(Safety.Timeout);
                    _processes.Kill(platform.CurrentProcess);
                    dead.Add(subscriber);
                    break;
                default:
                    _processes.Kill(platform.CurrentProcess);
                    dead.Add(subscriber);
                    break;
            }
        }
        catch
        {
            subscriber.Dispose();
            throw;
        }
    }

    /// <summary>A publisher streaming and a subscriber holding samples, both child processes, killed with SIGKILL.</summary>
    private static void KillChildrenMidStream(string topic)
    {
        using PeerProcess subscriber = PeerProcess.Start("subscriber", topic, "--hold-rolling", "2");
        using PeerProcess publisher = PeerProcess.Start("publisher", topic, "--size", "256", "--subscribers", "1", "--count", "1", "--forever", "--every-ms", "1");
        subscriber.WaitForLine(PeerOutput.Holding);
        publisher.Kill();
        subscriber.Kill();
        // The subscriber, killed last, leaves its semaphore for the next participant to remove (the publisher's segment
        // may already be gone: the subscriber removes a dead publisher's objects when it notices the death).
        Assert.Contains(Leftovers(topic), path => path.Contains($".s.{subscriber.Id}.", StringComparison.Ordinal));
    }

    /// <summary>Anything named after the topic in ZeroLane's lock directory (topics keep their flocks on /dev/shm files, so nothing should be).</summary>
    private static string[] LockDirectoryLeftovers(string topic) =>
        Directory.Exists("/tmp/zerobuffer")
            ? Directory.GetFileSystemEntries("/tmp/zerobuffer").Where(path => path.Contains(topic, StringComparison.Ordinal)).ToArray()
            : [];

    private static (int Descriptors, int Mappings) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return (Directory.GetFileSystemEntries("/proc/self/fd").Length, File.ReadLines("/proc/self/maps").Count());
    }
}
