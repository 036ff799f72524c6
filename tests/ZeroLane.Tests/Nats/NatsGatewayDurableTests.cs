using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using ZeroLane.Nats;
using ZeroLane.TestPeer;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;
using Xunit;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// Durable gateways (issue 13, point 4; PROTOCOL.md 16.5) on a real nats-server with JetStream: a late joiner on another
/// host is given the newest samples kept, and a gateway restarted under the same name goes on where it left off, so
/// nothing published meanwhile is missed. This process is host A; host B is peers in a private /dev/shm.
/// </summary>
public sealed class NatsGatewayDurableTests : IDisposable
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(120);
    private readonly string _topic = "gw" + Guid.NewGuid().ToString("N")[..12];
    private readonly TempDirectory _store = new();
    private readonly List<IDisposable> _cleanup = new();

    public NatsGatewayDurableTests()
    {
        Prerequisites.NatsServer.Require();
        Prerequisites.Root.Require();
    }

    [Fact]
    public async Task ALateJoinerGetsTheNewestSamplesKeptAndARestartedGatewayMissesNothing()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start($"jetstream {{ store_dir: \"{_store.Path}\" }}"));
        using var publisher = new Publisher(_topic);
        await using var connection = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-durable-a" });
        await using NatsGateway gateway = await NatsGateway.StartAsync(connection, new NatsGatewayOptions
        {
            Topics = [_topic],
            Durable = true,
            Overflow = OverflowPolicy.BlockPublisher,
            DiscoveryInterval = TimeSpan.FromMilliseconds(50),
        });
        await WaitUntil(() => publisher.SubscriberCount == 1); // the gateway's subscriber joined: it misses nothing from here

        // Twenty samples while no other host listens: the stream keeps them.
        ulong sequence = 0;
        for (int i = 0; i < 20; i++)
        {
            Write(publisher, ++sequence, 500);
        }
        await WaitUntil(() => gateway.Statistics.SamplesSent == 20);
        var js = new NatsJSContext(connection);
        INatsJSStream stream = await js.GetStreamAsync(DurableTopics.StreamName(_topic));
        Assert.Equal(20L, (long)stream.Info.State.Messages);

        // Host B joins late, asking for the newest 5.
        PeerProcess subscriber = Track(PeerProcess.StartWithPrivateDevShm("64m", "nats-subscriber", _topic, "--until-short", "--allow-repeats"));
        Assert.StartsWith(PeerOutput.Ready, subscriber.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error));
        PeerProcess hostB = StartGateway(subscriber.Id);
        Assert.Equal("FIRST seq=16", subscriber.WaitForLine("FIRST", s_hangGuard));

        // B's gateway stops; five samples are published meanwhile; it starts again under the same name.
        hostB.Send(PeerOutput.ExitCommand);
        hostB.WaitForLine("STATS");
        for (int i = 0; i < 5; i++)
        {
            Write(publisher, ++sequence, 700);
        }
        await WaitUntil(() => gateway.Statistics.SamplesSent == 25);
        StartGateway(subscriber.Id);
        Write(publisher, ++sequence, FramePattern.HeaderLength);

        string ok = subscriber.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error);
        Assert.StartsWith(PeerOutput.Ok, ok);
        Assert.Contains("first=16 ", ok);
        Assert.Contains($"last={sequence} ", ok);
        // At least once: nothing missing, but for samples the local publisher may have dropped from a subscriber too slow
        // for its acknowledge timeout (counted, and none on a quiet machine).
        long missing = Field(ok, "missing"), dropped = Field(ok, "dropped");
        Assert.InRange(missing, 0, dropped);
    }

    private PeerProcess StartGateway(int namespaceOf)
    {
        PeerProcess gateway = Track(PeerProcess.StartInMountNamespaceOf(namespaceOf,
            "nats-gateway", NatsUrl, "--topic", _topic, "--name", "host-b", "--durable", "--replay", "5", "--discovery-ms", "50"));
        Assert.StartsWith(PeerOutput.Ready, gateway.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error, "Unhandled"));
        return gateway;
    }

    private string NatsUrl => _cleanup.OfType<NatsServerProcess>().Single().Url;

    private static void Write(Publisher publisher, ulong sequence, int length)
    {
        byte[] sample = new byte[length];
        FramePattern.Fill(sample, sequence);
        publisher.Write(sample, s_hangGuard);
        Assert.Equal((long)sequence, publisher.SamplesPublished);
    }

    private static long Field(string line, string name) =>
        long.Parse(line.Split(' ').Single(word => word.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(s_hangGuard);
        while (!condition())
        {
            await Task.Delay(20, guard.Token);
        }
    }

    private T Track<T>(T disposable) where T : IDisposable
    {
        _cleanup.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--)
        {
            _cleanup[i].Dispose();
        }
        _store.Dispose();
    }
}
