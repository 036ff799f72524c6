using System.Buffers.Binary;
using NATS.Client.Core;
using ZeroLane.Nats;
using ZeroLane.Topics;

namespace ZeroLane.TestPeer;

/// <summary>
/// The NATS gateway scenarios: a host's gateway, and a subscriber that checks what a gateway republished. Started in a
/// private mount namespace (a /dev/shm of its own), a gateway and its subscribers stand for another host.
/// </summary>
internal static class NatsScenarios
{
    /// <summary>
    /// nats-gateway URLS --topic PATTERN [--direct]: runs a gateway (URLs comma-separated, tried in order) on a NATS.Net
    /// connection made here, or with --direct from an endpoint (the gateway's own connection carries the samples); prints
    /// READY id=ID; on "go" looks at local topics at once and prints REFRESHED imported=N exported=M; on "exit" prints
    /// STATS ... and BYE.
    /// </summary>
    internal static int Gateway(PeerArguments arguments, ManualResetEventSlim go, CancellationToken stop)
    {
        NatsConnection? connection = null;
        NatsGateway gateway;
        try
        {
            var options = new NatsGatewayOptions
            {
                Topics = (arguments.Text("topic") ?? ">").Split(','),
                Name = arguments.Text("name") ?? "test-gateway",
                DiscoveryInterval = TimeSpan.FromMilliseconds(arguments.Number("discovery-ms") ?? 100),
                Durable = arguments.Has("durable"),
                DurableReplay = (int)(arguments.Number("replay") ?? 0),
            };
            if (arguments.Has("direct"))
            {
                NatsEndpoint endpoint = NatsEndpoint.Parse(arguments.Name) with
                {
                    Name = arguments.Text("name") ?? "test-gateway",
                    ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
                    ReconnectWaitMax = TimeSpan.FromMilliseconds(500),
                };
                gateway = NatsGateway.StartAsync(endpoint, options).GetAwaiter().GetResult();
            }
            else
            {
                connection = new NatsConnection(NatsOpts.Default with
                {
                    Url = arguments.Name,
                    NoRandomize = true,
                    Echo = false,
                    Name = arguments.Text("name") ?? "test-gateway",
                    ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
                    ReconnectWaitMax = TimeSpan.FromMilliseconds(500),
                    MaxReconnectRetry = -1,
                });
                gateway = NatsGateway.StartAsync(connection, options).GetAwaiter().GetResult();
            }
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId} id={gateway.Id:x16}");
        while (!stop.IsCancellationRequested)
        {
            if (WaitHandle.WaitAny([stop.WaitHandle, go.WaitHandle]) == 0)
            {
                break;
            }
            go.Reset();
            gateway.RefreshAsync().GetAwaiter().GetResult();
            NatsGatewayStatistics now = gateway.Statistics;
            Console.WriteLine($"REFRESHED imported={now.ImportedTopics.Count} exported={now.ExportedTopics.Count}");
        }
        NatsGatewayStatistics stats = gateway.Statistics;
        Console.WriteLine($"LASTERROR {stats.LastError}");
        foreach (TopicInfo topic in TopicInspector.List())
        {
            foreach (TopicPublisherInfo p in topic.Publishers)
            {
                Console.WriteLine($"PUBLISHER {topic.Topic} id={p.Id:x16} forwarded={p.Forwarded} from={p.ForwardedFrom:x16} published={p.SamplesPublished} lost={p.ForwardLost}");
            }
        }
        gateway.Dispose();
        connection?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine($"STATS sent={stats.SamplesSent} received={stats.SamplesReceived} lost={stats.SamplesLost} " +
            $"dropped={stats.SamplesDroppedLocally} rejected={stats.MessagesRejected} stale={stats.MessagesStale} reconnects={stats.Reconnects}");
        return Scenarios.Bye();
    }

    /// <summary>
    /// nats-subscriber TOPIC --count N | --until-short: subscribes, prints READY, reads until it has N samples, each of which must be a
    /// whole FramePattern frame (its sequence embedded), in rising order with no sequence twice (--until-short: reads until
    /// a sample of 16 bytes, the end marker); prints FIRST seq=S at the first, then
    /// OK samples=N first=F last=L missing=M forwarded=K, or ERROR.
    /// </summary>
    internal static int Subscriber(PeerArguments arguments, CancellationToken stop)
    {
        Topics.Subscriber subscriber;
        try
        {
            subscriber = new Topics.Subscriber(arguments.Name, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        using (subscriber)
        {
            Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
            bool untilShort = arguments.Has("until-short");
            bool allowRepeats = arguments.Has("allow-repeats");
            long repeats = 0;
            long count = untilShort ? long.MaxValue : arguments.Number("count") ?? 1;
            ulong first = 0, last = 0;
            long forwarded = 0, read = 0;
            ulong previousPublisher = 0;
            for (; read < count; read++)
            {
                ReadStatus status = subscriber.TryRead(out Sample sample, TimeSpan.FromSeconds(60), stop);
                if (status is ReadStatus.WriterDisconnected or ReadStatus.WriterDied)
                {
                    // A publisher left (a gateway stopping): the samples of the others, or of the next, still come.
                    read--;
                    continue;
                }
                if (status != ReadStatus.Success)
                {
                    Console.WriteLine($"{PeerOutput.Error} {status} after {read} of {count} samples");
                    return ExitCodes.VerificationFailed;
                }
                using (sample)
                {
                    if (sample.Length < FramePattern.HeaderLength)
                    {
                        Console.WriteLine($"{PeerOutput.Error} a sample of {sample.Length} bytes");
                        return ExitCodes.VerificationFailed;
                    }
                    ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(sample.Span);
                    if (FramePattern.Verify(sample.Span, sequence) is { } problem)
                    {
                        Console.WriteLine($"{PeerOutput.Error} Torn: sample {sequence}: {problem}");
                        return ExitCodes.VerificationFailed;
                    }
                    if (sequence <= last && allowRepeats)
                    {
                        // At least once: a sample delivered again (a durable gateway restarted before acknowledging it).
                        repeats++;
                        read--;
                        continue;
                    }
                    if (sequence <= last)
                    {
                        Console.WriteLine($"{PeerOutput.Error} Order: sample {sequence} after {last}");
                        return ExitCodes.VerificationFailed;
                    }
                    if (last != 0 && sequence > last + 1)
                    {
                        Console.WriteLine($"GAP after={last} next={sequence} dropped={subscriber.SamplesDropped} length={sample.Length} publisher={sample.PublisherId:x16} previous={previousPublisher:x16}");
                    }
                    if (first == 0)
                    {
                        first = sequence;
                        Console.WriteLine($"FIRST seq={first}");
                    }
                    last = sequence;
                    previousPublisher = sample.PublisherId;
                    forwarded += sample.Forwarded ? 1 : 0;
                    if (untilShort && sample.Length == FramePattern.HeaderLength)
                    {
                        read++;
                        break;
                    }
                }
            }
            Console.WriteLine($"{PeerOutput.Ok} samples={read} first={first} last={last} missing={(long)(last - first + 1) - read} forwarded={forwarded} repeats={repeats} dropped={subscriber.SamplesDropped}");
            return Scenarios.Bye();
        }
    }
}
