using System.CommandLine;
using System.Globalization;
using ZeroLane.Nats;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane gateway --nats URL[,URL...] --topic PATTERN ...</c>: carries this host's topics to and from other hosts through
/// NATS (PROTOCOL.md section 16) until Ctrl+C or SIGTERM. The library's <see cref="NatsGateway"/> does the carrying; this
/// command connects, prints what starts and stops being carried, and its figures now and then and at the end.
/// </summary>
internal static class GatewayCommand
{
    internal static Command Create()
    {
        NatsCliOptions nats = NatsCliOptions.Create(natsRequired: true, defaultName: "zerolane-gateway");
        var topics = new Option<string[]>("--topic")
        {
            Description = "Topics to carry: a name, or a pattern where * is one '.'-separated token and a final > the rest (e.g. camera.*, sensors.>, or > for all). " +
                "Repeat for several.",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
            HelpName = "pattern",
        };
        var direction = new Option<string>("--direction")
        {
            Description = "both (default), export (only send this host's samples) or import (only receive other hosts' samples).",
            DefaultValueFactory = _ => "both",
            HelpName = "both|export|import",
        };
        var block = new Option<bool>("--block")
        {
            Description = "Make local publishers wait when NATS cannot keep up (up to their acknowledge timeout), instead of dropping the gateway's oldest queued sample.",
        };
        var durable = new Option<bool>("--durable")
        {
            Description = "Carry through JetStream (a stream per topic, at least once, replay to late joiners) instead of core NATS (at most once). The server needs JetStream enabled.",
        };
        var replay = new Option<int>("--replay")
        {
            Description = "With --durable: a new consumer on this host starts with this many of the newest messages kept (a chunked sample counts one per chunk).",
            DefaultValueFactory = _ => 0,
            HelpName = "count",
        };
        var natsNet = new Option<bool>("--via-natsnet")
        {
            Description = "Carry the samples on NATS.Net's connection instead of the gateway's own (which sends them straight from shared memory, allocating nothing per sample). For diagnosis; --durable always uses NATS.Net.",
        };
        Option<long> maxSampleSize = CommonOptions.CreateSizeOption("--max-sample-size", "Largest sample taken from NATS (larger ones are refused before any memory is used).", 256L << 20);
        var stats = new Option<double>("--stats")
        {
            Description = "Print the gateway's figures every this many seconds (0: only at the end).",
            DefaultValueFactory = _ => 10,
            HelpName = "seconds",
        };
        Option<double> connectTimeout = CommonOptions.CreateConnectTimeoutOption("reach a NATS server at start", 10);
        var command = new Command("gateway", "Carry this host's topics to and from other hosts through a NATS server or cluster.")
        {
            topics, direction, block, durable, replay, natsNet, maxSampleSize, stats, connectTimeout,
        };
        nats.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string[] patterns = parseResult.GetValue(topics) ?? [];
            foreach (string pattern in patterns)
            {
                TopicPattern.Parse(pattern); // a bad pattern fails here, before any connection
            }
            GatewayDirection way = parseResult.GetValue(direction)?.Trim().ToLowerInvariant() switch
            {
                "both" => GatewayDirection.Both,
                "export" => GatewayDirection.Export,
                "import" => GatewayDirection.Import,
                var other => throw new CommandException($"--direction takes both, export or import, not '{other}'."),
            };
            double every = parseResult.GetValue(stats);
            CliErrors.Require(every is >= 0 and < 1e9, "--stats must be a non-negative number of seconds.");
            int replayCount = parseResult.GetValue(replay);
            CliErrors.Require(replayCount >= 0, "--replay must be 0 or more.");
            CliErrors.Require(replayCount == 0 || parseResult.GetValue(durable), "--replay needs --durable (core NATS keeps nothing to replay).");
            NatsEndpoint endpoint = nats.ToEndpoint(parseResult, CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout)));
            var options = new NatsGatewayOptions
            {
                Topics = patterns,
                Name = endpoint.Name,
                Direction = way,
                Overflow = parseResult.GetValue(block) ? OverflowPolicy.BlockPublisher : OverflowPolicy.DropOldest,
                Durable = parseResult.GetValue(durable),
                DurableReplay = replayCount,
                MaxSampleSize = parseResult.GetValue(maxSampleSize),
                DirectConnection = !parseResult.GetValue(natsNet),
            };
            return await RunAsync(endpoint, options, every, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(NatsEndpoint endpoint, NatsGatewayOptions options, double statsSeconds, CancellationToken cancellationToken)
    {
        NatsGateway gateway = await NatsGateway.StartAsync(endpoint, options, log: null, cancellationToken).ConfigureAwait(false);
        try
        {
            Console.Error.Write($"Gateway '{gateway.Name}' ({gateway.Id:x16}) connected to {gateway.ServerAddress}" +
                $" ({string.Join(", ", endpoint.Urls)}), carrying {string.Join(", ", options.Topics)} ({Lower(options.Direction)}" +
                (options.Durable ? ", durable" : "") + (gateway.Statistics.DirectConnection ? ", on its own connection" : ", through NATS.Net") + "). Ctrl+C to stop.\n");
            IReadOnlyList<string> exported = [], imported = [];
            long nextStats = Environment.TickCount64 + (long)(statsSeconds * 1000);
            while (true)
            {
                NatsGatewayStatistics now = gateway.Statistics;
                Report("exporting", exported, now.ExportedTopics);
                Report("importing", imported, now.ImportedTopics);
                (exported, imported) = (now.ExportedTopics, now.ImportedTopics);
                if (statsSeconds > 0 && Environment.TickCount64 >= nextStats)
                {
                    Console.Out.Write(StatsLine(now) + "\n");
                    nextStats = Environment.TickCount64 + (long)(statsSeconds * 1000);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            NatsGatewayStatistics last = gateway.Statistics;
            await gateway.DisposeAsync().ConfigureAwait(false);
            Console.Out.Write(StatsLine(last) + "\n");
        }
    }

    private static void Report(string what, IReadOnlyList<string> before, IReadOnlyList<string> now)
    {
        foreach (string topic in now.Except(before))
        {
            Console.Out.Write($"{what} {topic}\n");
        }
        foreach (string topic in before.Except(now))
        {
            Console.Out.Write($"stopped {what} {topic}\n");
        }
    }

    /// <summary>One line of figures, <c>key=value</c> words a script can pick apart.</summary>
    internal static string StatsLine(NatsGatewayStatistics s) => FormattableString.Invariant(
        $"stats sent={s.SamplesSent} sent_bytes={s.BytesSent} received={s.SamplesReceived} received_bytes={s.BytesReceived} dropped={s.SamplesDroppedLocally} lost={s.SamplesLost} no_room={s.SamplesWithoutRoom} rejected={s.MessagesRejected} send_failures={s.SendFailures} reconnects={s.Reconnects}")
        + (s.LastError is { } error ? $" last_error=\"{error}\"" : "");

    private static string Lower(GatewayDirection direction) => direction.ToString().ToLowerInvariant();
}
