using System.Globalization;
using System.Text;
using NATS.Client.Core;
using ZeroLane.Messages;
using ZeroLane.Nats;
using ZeroLane.TestPeer;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;
using Xunit;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// The gateway against NATS messages made by hand on a real nats-server (issue 13, points 2 and 4, PROTOCOL.md 16.2-16.4):
/// what it puts on the wire, chunks lost or cut off by a restart, gaps, messages that are not valid samples, plain NATS
/// publishers, and its own messages echoed back. The gateway runs in this process with a local subscriber; the test's
/// own NATS connection plays the other hosts.
/// </summary>
public sealed class NatsGatewayWireTests : IAsyncLifetime
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(60);
    private readonly string _topic = "gw" + Guid.NewGuid().ToString("N")[..12];
    private NatsServerProcess? _server;
    private NatsConnection? _gatewayConnection;
    private NatsConnection? _other;

    private string Subject => NatsSubjects.ForTopic(_topic);

    public async Task InitializeAsync()
    {
        Prerequisites.NatsServer.Require();
        _server = NatsServerProcess.Start();
        _gatewayConnection = new NatsConnection(new NatsOpts { Url = _server.Url, Name = "zltest-gateway" });
        _other = new NatsConnection(new NatsOpts { Url = _server.Url, Name = "zltest-other-host" });
        await _other.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        if (_other is not null)
        {
            await _other.DisposeAsync();
        }
        if (_gatewayConnection is not null)
        {
            await _gatewayConnection.DisposeAsync();
        }
        _server?.Dispose();
    }

    [Fact]
    public async Task ASampleMissingAChunkIsDroppedWholeAndEveryLossIsCounted()
    {
        using var subscriber = new Subscriber(_topic);
        await using NatsGateway gateway = await StartGateway();
        const ulong Gateway = 0x1111, Origin = 0x22;

        await PublishWhole(Gateway, Origin, 1, Sample(1, 3000));
        byte[] two = Sample(2, 3000);
        await PublishChunk(Gateway, Origin, 2, two, 0, 3);
        await PublishChunk(Gateway, Origin, 2, two, 2, 3); // chunk 1 of 3 never comes: sample 2 is torn
        await PublishWhole(Gateway, Origin, 3, Sample(3, 3000));
        await PublishChunk(Gateway, Origin, 4, Sample(4, 3000), 0, 2); // cut off: sample 6 begins before its last chunk
        await PublishWhole(Gateway, Origin, 6, Sample(6, 3000)); // sample 5 never comes: a gap

        foreach (ulong expected in new ulong[] { 1, 3, 6 })
        {
            using Sample sample = subscriber.Read(s_hangGuard);
            Assert.True(sample.Forwarded);
            Assert.Null(FramePattern.Verify(sample.Span, expected));
        }
        // Counted before sample 6 was published: torn 2, torn 4, missing 5.
        TopicPublisherInfo forwarded = Assert.Single(Topic().Publishers);
        Assert.True(forwarded.Forwarded);
        Assert.Equal(Origin, forwarded.ForwardedFrom);
        Assert.Equal(3UL, forwarded.ForwardLost);
        Assert.Equal(3, gateway.Statistics.SamplesReceived);
        Assert.Equal(3, gateway.Statistics.SamplesLost);
        Assert.Equal(ReadStatus.TimedOut, subscriber.TryRead(out _, TimeSpan.FromMilliseconds(100)));

        // `zerolane topics` shows it per remote publisher; the ZeroLane.Gateway meter has the totals.
        ToolResult topics = await ToolProcess.RunAsync("topics");
        Assert.Contains($"gateway: forwards publisher {Origin:x16} of another host, 3 lost on the way", topics.Output);
        ToolResult json = await ToolProcess.RunAsync("topics", "--json");
        Assert.Contains("\"forwardedFrom\":\"0000000000000022\",\"forwardLost\":3", json.Output);
        Dictionary<string, long> measured = Measure(gateway.Name);
        Assert.Equal(3, measured["zerolane.gateway.samples_received"]);
        Assert.Equal(3, measured["zerolane.gateway.samples_lost"]);
        Assert.Equal(0, measured["zerolane.gateway.samples_sent"]);
    }

    /// <summary>The last values of the ZeroLane.Gateway meter's instruments for the gateway named <paramref name="name"/>.</summary>
    private static Dictionary<string, long> Measure(string name)
    {
        var values = new Dictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ZeroLane.Gateway")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "gateway" && (string?)tag.Value == name)
                {
                    values[instrument.Name] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }

    [Fact]
    public async Task AGatewayRestartedMidSampleNeverDeliversTheHalfItSent()
    {
        using var subscriber = new Subscriber(_topic);
        await using NatsGateway gateway = await StartGateway(chunkTimeout: TimeSpan.FromMilliseconds(300));
        const ulong Before = 0xAAAA, After = 0xBBBB, Origin = 0x33;
        byte[] half = Sample(1, 5000);

        await PublishChunk(Before, Origin, 1, half, 0, 2);
        // The restarted gateway has a new ID: a new origin, whose sample 1 is delivered.
        await PublishWhole(After, Origin, 1, Sample(1, 700));
        using (Sample sample = subscriber.Read(s_hangGuard))
        {
            Assert.Equal(700, sample.Length);
            Assert.Null(FramePattern.Verify(sample.Span, 1));
        }
        // The old gateway's half sample waits for its next chunk, then is dropped and counted.
        using var guard = new CancellationTokenSource(s_hangGuard);
        while (gateway.Statistics.SamplesLost == 0)
        {
            await Task.Delay(20, guard.Token);
        }
        // Its last chunk, arriving now, completes nothing: the next sample seen is the new gateway's second.
        await PublishChunk(Before, Origin, 1, half, 1, 2);
        await PublishWhole(After, Origin, 2, Sample(2, 800));
        using (Sample sample = subscriber.Read(s_hangGuard))
        {
            Assert.Equal(800, sample.Length);
            Assert.Null(FramePattern.Verify(sample.Span, 2));
        }
        Assert.Equal(1, gateway.Statistics.SamplesLost);
    }

    [Fact]
    public async Task AMessageTravelsAsItsBodyAndPartsWithTheirLengthsInAHeaderAndIsRebuiltExactly()
    {
        // Out: a local message sample goes to NATS as body and parts, lengths in Zl-Parts.
        await using INatsSub<byte[]> raw = await _other!.SubscribeCoreAsync<byte[]>(Subject);
        await _other.PingAsync();
        var publisher = new Publisher(_topic);
        NatsGateway exporter = await StartGateway(direction: GatewayDirection.Export);
        byte[] body = Encoding.UTF8.GetBytes("frame 7");
        byte[] part0 = [1, 2, 3], part2 = [9, 8, 7, 6, 5];
        using var guard = new CancellationTokenSource(s_hangGuard);
        NatsMsg<byte[]> received;
        do
        {
            // The gateway's subscriber may join after the first samples: write until one arrives.
            publisher.WriteMessage(Message.Create(body, part0, ReadOnlyMemory<byte>.Empty, part2), s_hangGuard);
            using var look = CancellationTokenSource.CreateLinkedTokenSource(guard.Token);
            look.CancelAfter(TimeSpan.FromMilliseconds(200));
            try
            {
                received = await raw.Msgs.ReadAsync(look.Token);
                break;
            }
            catch (OperationCanceledException) when (!guard.IsCancellationRequested)
            {
            }
        }
        while (true);
        Assert.Equal("7,3,0,5", received.Headers!["Zl-Parts"].ToString());
        Assert.Equal(publisher.Id.ToString("x16", CultureInfo.InvariantCulture), received.Headers["Zl-Pub"].ToString());
        Assert.Equal(exporter.Id.ToString("x16", CultureInfo.InvariantCulture), received.Headers["Zl-Gw"].ToString());
        Assert.Equal("1", received.Headers["Zl-V"].ToString());
        Assert.Equal([.. body, .. part0, .. part2], received.Data!);
        await exporter.DisposeAsync();
        publisher.Dispose();

        // In: the same headers and payload become the same encoded message in a local sample.
        using var subscriber = new Subscriber(_topic);
        await using NatsGateway importer = await StartGateway(direction: GatewayDirection.Import);
        var headers = Headers(0x4444, 0x55, 1, body.Length + part0.Length + part2.Length);
        headers["Zl-Parts"] = "7,3,0,5";
        await _other.PublishAsync(Subject, received.Data!, headers);
        Sample sample = subscriber.Read(s_hangGuard);
        Assert.True(sample.Forwarded);
        using Message message = FrameMessages.DecodeFrame(sample.Frame, MessageLimits.Default);
        Assert.Equal(body, message.Body.ToArray());
        Assert.Equal(3, message.PartCount);
        Assert.Equal(part0, message.Parts[0].ToArray());
        Assert.Empty(message.Parts[1].ToArray());
        Assert.Equal(part2, message.Parts[2].ToArray());
    }

    [Fact]
    public async Task APlainNatsPublishersMessagesArriveAsSamplesAndInvalidOnesAreRejectedWithAReason()
    {
        using var subscriber = new Subscriber(_topic);
        await using NatsGateway gateway = await StartGateway(maxSampleSize: 1 << 20);

        await _other!.PublishAsync(Subject, "hello"u8.ToArray());
        using (Sample sample = subscriber.Read(s_hangGuard))
        {
            Assert.Equal("hello", Encoding.UTF8.GetString(sample.Span));
            Assert.True(sample.Forwarded);
        }
        Assert.Equal(ulong.MaxValue, Assert.Single(Topic().Publishers).ForwardedFrom);

        NatsHeaders newer = Headers(0x66, 1, 1, 5);
        newer["Zl-V"] = "2";
        await _other.PublishAsync(Subject, "later"u8.ToArray(), newer);
        await _other.PublishAsync(Subject, "short"u8.ToArray(), Headers(0x66, 1, 2, 9)); // Zl-Len lies
        await _other.PublishAsync(Subject, new byte[10], Headers(0x66, 1, 3, 2L << 20)); // over MaxSampleSize: never loaned
        await _other.PublishAsync(Subject, Sample(4, 100), Headers(0x66, 1, 4, 100));

        using (Sample sample = subscriber.Read(s_hangGuard))
        {
            Assert.Null(FramePattern.Verify(sample.Span, 4));
        }
        NatsGatewayStatistics stats = gateway.Statistics;
        Assert.Equal(3, stats.MessagesRejected);
        Assert.Contains("2097152 bytes", stats.LastError);
        Assert.Contains(_topic, stats.LastError);
    }

    [Fact]
    public async Task AGatewayNeverTakesBackWhatItSentEvenWhenNatsEchoesIt()
    {
        // Echo on (NATS.Net's default): the server sends the gateway its own messages back; their Zl-Gw is its own ID.
        using var publisher = new Publisher(_topic);
        using var subscriber = new Subscriber(_topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        await using NatsGateway gateway = await StartGateway();
        await using INatsSub<byte[]> raw = await _other!.SubscribeCoreAsync<byte[]>(Subject);
        await _other.PingAsync();
        Assert.Contains(_topic, gateway.Statistics.ImportedTopics);

        ulong sequence = 0;
        using var guard = new CancellationTokenSource(s_hangGuard);
        // Until one sample made the round trip through NATS (the raw subscriber saw it), then ten more.
        while (!raw.Msgs.TryPeek(out _) || sequence < 10)
        {
            guard.Token.ThrowIfCancellationRequested();
            byte[] data = Sample(++sequence, 256);
            publisher.Write(data, s_hangGuard);
            using Sample back = subscriber.Read(s_hangGuard);
            Assert.False(back.Forwarded);
            Assert.Equal(sequence, back.Sequence);
        }
        // The gateway's own messages reached it (the raw subscriber got them, on the same server) and were left out.
        Assert.Equal([publisher.Id], Topic().Publishers.Select(p => p.Id));
        Assert.Equal(0, gateway.Statistics.SamplesReceived);
        Assert.Equal(ReadStatus.TimedOut, subscriber.TryRead(out _, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task ANetworkThatStopsMovingNeverBlocksLocalPublishersAndTheGatewaysDropsAreCounted()
    {
        using var publisher = new Publisher(_topic, new PublisherOptions { MaxSampleSize = 64 << 10 });
        await using NatsGateway gateway = await StartGateway(direction: GatewayDirection.Export);
        using var guard = new CancellationTokenSource(s_hangGuard);
        while (publisher.SubscriberCount == 0)
        {
            await Task.Delay(10, guard.Token); // the gateway's subscriber joins the publisher
        }
        _server!.Freeze(true);
        try
        {
            // The server reads nothing: the gateway's socket and NATS.Net's buffer fill, its sends wait, its queue fills.
            byte[] sample = new byte[64 << 10];
            int written = 0;
            while (gateway.Statistics.SamplesDroppedLocally < 10)
            {
                guard.Token.ThrowIfCancellationRequested();
                // Never a wait: with every slot taken, the publisher drops the gateway's oldest queued sample instead.
                Assert.Equal(WriteStatus.Success, publisher.TryWrite(sample, TimeSpan.Zero));
                written++;
            }
            Assert.True(written > 10);
        }
        finally
        {
            _server.Freeze(false);
        }
    }

    private Task<NatsGateway> StartGateway(GatewayDirection direction = GatewayDirection.Both, TimeSpan? chunkTimeout = null, long maxSampleSize = 256L << 20) =>
        NatsGateway.StartAsync(_gatewayConnection!, new NatsGatewayOptions
        {
            Topics = [_topic],
            Name = _topic,
            Direction = direction,
            ChunkTimeout = chunkTimeout ?? TimeSpan.FromSeconds(5),
            MaxSampleSize = maxSampleSize,
            DiscoveryInterval = TimeSpan.FromMilliseconds(50),
        });

    private TopicInfo Topic()
    {
        Assert.True(TopicInspector.TryGetTopic(_topic, out TopicInfo? info));
        return info;
    }

    private static byte[] Sample(ulong sequence, int length)
    {
        byte[] data = new byte[length];
        FramePattern.Fill(data, sequence);
        return data;
    }

    private static NatsHeaders Headers(ulong gateway, ulong origin, ulong sequence, long length) => new()
    {
        ["Zl-V"] = "1",
        ["Zl-Gw"] = gateway.ToString("x16", CultureInfo.InvariantCulture),
        ["Zl-Pub"] = origin.ToString("x16", CultureInfo.InvariantCulture),
        ["Zl-Seq"] = sequence.ToString("x16", CultureInfo.InvariantCulture),
        ["Zl-Ts"] = 1_700_000_000_000_000_000L.ToString("x16", CultureInfo.InvariantCulture),
        ["Zl-Len"] = length.ToString("x16", CultureInfo.InvariantCulture),
    };

    private ValueTask PublishWhole(ulong gateway, ulong origin, ulong sequence, byte[] sample) =>
        _other!.PublishAsync(Subject, sample, Headers(gateway, origin, sequence, sample.Length));

    /// <summary>Publishes chunk <paramref name="index"/> of <paramref name="count"/> equal chunks (the last one shorter) of <paramref name="sample"/>.</summary>
    private ValueTask PublishChunk(ulong gateway, ulong origin, ulong sequence, byte[] sample, int index, int count)
    {
        int size = (sample.Length + count - 1) / count;
        NatsHeaders headers = Headers(gateway, origin, sequence, sample.Length);
        headers["Zl-Chunk"] = index.ToString("x8", CultureInfo.InvariantCulture) + "/" + count.ToString("x8", CultureInfo.InvariantCulture);
        return _other!.PublishAsync(Subject, sample.AsSpan(index * size, Math.Min(size, sample.Length - index * size)).ToArray(), headers);
    }
}
