using System.Globalization;
using NATS.Client.Core;
using ZeroLane.Nats;
using ZeroLane.TestPeer;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;
using Xunit;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// The gateway between hosts (issue 13, points 1, 2 and 6) with real nats-server processes on loopback. This test process
/// is host A (its /dev/shm, a gateway in process); every other host is a gateway peer started in a private mount
/// namespace with a /dev/shm of its own, and subscriber peers in that namespace. Samples are FramePattern frames carrying
/// their publisher's sequence number, so a subscriber on another host checks each one whole and counts what is missing.
/// No timing is asserted: publishers write until subscribers report, and the waits are hang guards.
/// </summary>
public sealed class NatsGatewayTests : IDisposable
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(120);

    private readonly List<IDisposable> _cleanup = new();
    private readonly string _topic = "gw" + Guid.NewGuid().ToString("N")[..12];

    public NatsGatewayTests()
    {
        Prerequisites.NatsServer.Require();
        Prerequisites.Root.Require();
    }

    /// <summary>
    /// <paramref name="direct"/>: every gateway carries the samples on its own connection (NatsDirectConnection), else on
    /// NATS.Net's. Either way this host also subscribes to the topic, so its gateway imports it too and must get none of its
    /// own samples back.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SubscribersOnThreeOtherHostsReceiveEverySampleWholeAndAHostWithoutSubscribersPullsNothing(bool direct)
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        Host[] receivers = [StartHost(server.Url, direct, subscriber: ["--until-short"]), StartHost(server.Url, direct, subscriber: ["--until-short"]),
            StartHost(server.Url, direct, subscriber: ["--until-short"])];
        Host idle = StartHost(server.Url, direct, subscriber: null);

        using var publisher = new Publisher(_topic, new PublisherOptions { AcknowledgeTimeout = s_hangGuard, MaxSampleSize = 64 << 10 });
        using var local = new Subscriber(_topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        await using NatsConnection? connection = direct ? null : Connect(server.Url);
        await using NatsGateway gateway = await StartGateway(server.Url, connection);
        Assert.Equal(direct, gateway.DirectConnection is not null);
        Assert.Contains(_topic, gateway.Statistics.ExportedTopics);

        // Until every other host has seen the stream begin; then 200 more, then the end marker (16 bytes).
        ulong sequence = 0;
        while (!receivers.All(host => host.Subscriber!.Output.Any(line => line.StartsWith("FIRST", StringComparison.Ordinal))))
        {
            WriteAndTakeBack(publisher, local, ++sequence, 1 + (int)(sequence % 50_000) + FramePattern.HeaderLength);
        }
        for (int i = 0; i < 200; i++)
        {
            WriteAndTakeBack(publisher, local, ++sequence, FramePattern.VariedLength(sequence, 60_000) + 17);
        }
        ulong marker = sequence + 1;
        FinishWithMarkers(receivers, publisher, local, ref sequence);

        var oks = new List<string>();
        foreach (Host host in receivers)
        {
            string ok = host.Subscriber!.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error);
            Assert.StartsWith(PeerOutput.Ok, ok);
            Assert.InRange(Field(ok, "last"), (long)marker, (long)sequence);
            Assert.Equal(Field(ok, "samples"), Field(ok, "forwarded"));
            oks.Add(ok);
        }

        // Nothing came back to this host: its only publisher is the one above (no forwarded one), and its subscriber got
        // exactly the samples written, each once (WriteAndTakeBack checked them one by one).
        Assert.True(TopicInspector.TryGetTopic(_topic, out TopicInfo? info));
        Assert.Equal([publisher.Id], info.Publishers.Select(p => p.Id));
        Assert.Equal(0, gateway.Statistics.SamplesReceived);

        for (int i = 0; i < receivers.Length; i++)
        {
            string stats = receivers[i].Stop();
            // Nothing lost goes unseen: whatever a subscriber missed, its gateway counted lost on the way or its local
            // publisher counted dropped from its queue (none on a quiet machine: the publishers here wait rather than drop).
            AssertCounted(oks[i], stats, receivers[i]);
            Assert.Equal(0, Field(stats, "rejected"));
            Assert.Equal(0, Field(stats, "sent"));
        }
        // The host with no subscriber never subscribed on NATS, so it received nothing of all that.
        string idleStats = idle.Stop();
        Assert.Equal(0, Field(idleStats, "received"));
        Assert.Equal(0, Field(idleStats, "lost"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SamplesOf16MiBTravelInChunksUnderA1MiBMaxPayloadAndArriveWhole(bool direct)
    {
        NatsServerProcess server = Track(NatsServerProcess.Start("max_payload: 1048576"));
        Host receiver = StartHost(server.Url, direct, subscriber: ["--until-short"], devShm: "600m");

        using var publisher = new Publisher(_topic, new PublisherOptions { AcknowledgeTimeout = s_hangGuard, MaxSampleSize = 16 << 20, Slots = 4 });
        using var local = new Subscriber(_topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        await using NatsConnection? connection = direct ? null : Connect(server.Url);
        await using NatsGateway gateway = await StartGateway(server.Url, connection);

        ulong sequence = 0;
        while (!receiver.Subscriber!.Output.Any(line => line.StartsWith("FIRST", StringComparison.Ordinal)))
        {
            WriteAndTakeBack(publisher, local, ++sequence, 16 << 20);
        }
        for (int i = 0; i < 3; i++)
        {
            WriteAndTakeBack(publisher, local, ++sequence, (16 << 20) - i * 4099);
        }
        FinishWithMarkers([receiver], publisher, local, ref sequence);

        string ok = receiver.Subscriber.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error);
        Assert.StartsWith(PeerOutput.Ok, ok);
        Assert.True(Field(ok, "samples") >= 4, ok); // the 16 MiB samples arrived whole (the subscriber checked every byte)
        string stats = receiver.Stop();
        AssertCounted(ok, stats, receiver);
        Assert.Equal(0, Field(stats, "rejected"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WhenANodeOfA3NodeClusterDiesTheStreamGoesOnAndWhatWasLostIsCountedNeverTornOrTwice(bool direct)
    {
        NatsServerProcess[] nodes = NatsServerProcess.StartCluster(3);
        _cleanup.Add(new Disposer(() => NatsServerProcess.DisposeAll(nodes)));
        // This host's gateway is on node 0, the one killed; the other host's on node 1.
        string urlsFromNode0 = string.Join(",", nodes.Select(node => node.Url));
        string urlsFromNode1 = string.Join(",", new[] { nodes[1], nodes[2], nodes[0] }.Select(node => node.Url));
        Host receiver = StartHost(urlsFromNode1, direct, subscriber: ["--until-short"]);

        using var publisher = new Publisher(_topic, new PublisherOptions { AcknowledgeTimeout = s_hangGuard, MaxSampleSize = 64 << 10 });
        using var local = new Subscriber(_topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        await using NatsConnection? connection = direct ? null : Connect(urlsFromNode0);
        await using NatsGateway gateway = await StartGateway(urlsFromNode0, connection);
        Assert.Equal(nodes[0].Port, ServerPort(gateway, connection));
        await using var spy = new NatsConnection(new NatsOpts { Url = nodes[1].Url, Name = "zltest-spy" });
        await using INatsSub<byte[]> spied = await spy.SubscribeCoreAsync<byte[]>(NatsSubjects.ForTopic(_topic));
        await spy.PingAsync();

        ulong sequence = 0;
        while (!receiver.Subscriber!.Output.Any(line => line.StartsWith("FIRST", StringComparison.Ordinal)))
        {
            WriteAndTakeBack(publisher, local, ++sequence, 1000 + (int)(sequence % 3000));
        }
        for (int i = 0; i < 100; i++)
        {
            WriteAndTakeBack(publisher, local, ++sequence, 1000 + (int)(sequence % 3000));
        }
        nodes[0].Kill();
        // Mid-stream: go on writing while the gateway's connection moves to another node.
        using var guard = new CancellationTokenSource(s_hangGuard);
        while (gateway.Statistics.Reconnects == 0 || ServerPort(gateway, connection) is null || ServerPort(gateway, connection) == nodes[0].Port)
        {
            guard.Token.ThrowIfCancellationRequested();
            WriteAndTakeBack(publisher, local, ++sequence, 1000 + (int)(sequence % 3000));
        }
        for (int i = 0; i < 100; i++)
        {
            WriteAndTakeBack(publisher, local, ++sequence, 1000 + (int)(sequence % 3000));
        }
        FinishWithMarkers([receiver], publisher, local, ref sequence);

        string ok = receiver.Subscriber.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error);
        Assert.StartsWith(PeerOutput.Ok, ok);
        // Every sample the subscriber missed (none, if NATS.Net kept them while reconnecting) is one the other gateway
        // counted lost on the way (or its local publisher dropped, counted): gaps are seen, never hidden.
        string stats = receiver.Stop();
        var seen = new System.Text.StringBuilder();
        while (spied.Msgs.TryRead(out NatsMsg<byte[]> m))
        {
            ulong embedded = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(m.Data);
            string seq = m.Headers!["Zl-Seq"].ToString();
            if (ulong.Parse(seq, NumberStyles.HexNumber, CultureInfo.InvariantCulture) != embedded)
            {
                seen.Append($"[seq {seq} carries {embedded}] ");
            }
        }
        Assert.True(seen.Length == 0, "MISMATCH " + seen);
        AssertCounted(ok, stats, receiver);
    }

    /// <summary>Whatever the subscriber missed, its gateway counted lost on the way, or its local publisher dropped (counted).</summary>
    private static void AssertCounted(string ok, string stats, Host host)
    {
        long missing = Field(ok, "missing");
        Assert.True(missing >= 0 && missing <= Field(stats, "lost") + Field(ok, "dropped"),
            $"Missed without being counted. Subscriber: {host.Subscriber!.Describe()}\nGateway: {host.Gateway.Describe()}");
    }

    /// <summary>
    /// Writes end markers (16-byte samples) until every host's subscriber has seen one and reported: a marker, like any
    /// sample, may be lost on the way (core NATS), so one is not enough. Markers are a tenth of a second apart.
    /// </summary>
    private static void FinishWithMarkers(Host[] hosts, Publisher publisher, Subscriber local, ref ulong sequence)
    {
        using var guard = new CancellationTokenSource(s_hangGuard);
        while (!hosts.All(host => host.Subscriber!.Output.Any(line => PeerOutput.Is(line, PeerOutput.Ok) || PeerOutput.Is(line, PeerOutput.Error))))
        {
            guard.Token.ThrowIfCancellationRequested();
            WriteAndTakeBack(publisher, local, ++sequence, FramePattern.HeaderLength);
            Thread.Sleep(100);
        }
    }

    /// <summary>Writes FramePattern sample <paramref name="sequence"/> (its publisher's sequence) and reads it back from this host's subscriber.</summary>
    private static void WriteAndTakeBack(Publisher publisher, Subscriber local, ulong sequence, int length)
    {
        byte[] sample = new byte[length];
        FramePattern.Fill(sample, sequence);
        publisher.Write(sample, TimeSpan.FromSeconds(30));
        using Sample back = local.Read(TimeSpan.FromSeconds(30));
        Assert.Equal(publisher.Id, back.PublisherId);
        Assert.False(back.Forwarded);
        Assert.Equal(sequence, back.Sequence);
        Assert.Null(FramePattern.Verify(back.Span, sequence));
    }

    /// <summary>This host's gateway: on <paramref name="connection"/> (NATS.Net carries the samples), or when null from an endpoint (its own connection does).</summary>
    private Task<NatsGateway> StartGateway(string urls, NatsConnection? connection)
    {
        var options = new NatsGatewayOptions { Topics = [_topic], Overflow = OverflowPolicy.BlockPublisher };
        return connection is not null
            ? NatsGateway.StartAsync(connection, options)
            : NatsGateway.StartAsync(NatsEndpoint.Parse(urls) with
            {
                Name = "zltest-gateway-a",
                ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
                ReconnectWaitMax = TimeSpan.FromMilliseconds(500),
            }, options);
    }

    /// <summary>The port of the server the connection carrying this host's samples is on now; null while it is not open.</summary>
    private static int? ServerPort(NatsGateway gateway, NatsConnection? connection)
    {
        if (connection is not null)
        {
            return connection.ConnectionState == NatsConnectionState.Open ? connection.ServerInfo?.Port : null;
        }
        return gateway.DirectConnection!.ServerUrl is { } url ? new Uri(url).Port : null;
    }

    private static NatsConnection Connect(string urls) => new(NatsOpts.Default with
    {
        Url = urls,
        NoRandomize = true,
        Echo = false,
        Name = "zltest-gateway-a",
        ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
        ReconnectWaitMax = TimeSpan.FromMilliseconds(500),
        MaxReconnectRetry = -1,
    });

    /// <summary>Starts another host: a gateway peer in a private /dev/shm and, unless null, a subscriber peer next to it.</summary>
    private Host StartHost(string urls, bool direct, string[]? subscriber, string devShm = "256m")
    {
        string[] peer = ["nats-gateway", urls, "--topic", _topic, "--discovery-ms", "50", .. direct ? new[] { "--direct" } : []];
        PeerProcess gateway = Track(PeerProcess.StartWithPrivateDevShm(devShm, peer));
        Assert.StartsWith(PeerOutput.Ready, gateway.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error, "Unhandled"));
        PeerProcess? reader = null;
        if (subscriber is not null)
        {
            reader = Track(PeerProcess.StartInMountNamespaceOf(gateway.Id, ["nats-subscriber", _topic, .. subscriber]));
            Assert.StartsWith(PeerOutput.Ready, reader.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error));
            // The gateway subscribes on NATS once it sees the subscriber: ask it to look now, until it has.
            while (true)
            {
                gateway.Send(PeerOutput.GoCommand);
                if (Field(gateway.WaitForLine("REFRESHED"), "imported") == 1)
                {
                    break;
                }
            }
        }
        return new Host(gateway, reader);
    }

    private T Track<T>(T disposable) where T : IDisposable
    {
        _cleanup.Add(disposable);
        return disposable;
    }

    private static long Field(string line, string name)
    {
        foreach (string word in line.Split(' '))
        {
            if (word.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return long.Parse(word[(name.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"No {name}= in '{line}'.");
    }

    public void Dispose()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--)
        {
            _cleanup[i].Dispose();
        }
    }

    /// <summary>Another host: its gateway peer and its subscriber peer (if any), sharing a private /dev/shm.</summary>
    private sealed record Host(PeerProcess Gateway, PeerProcess? Subscriber)
    {
        /// <summary>Stops the gateway and returns its STATS line.</summary>
        internal string Stop()
        {
            Gateway.Send(PeerOutput.ExitCommand);
            return Gateway.WaitForLine("STATS");
        }
    }

    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
