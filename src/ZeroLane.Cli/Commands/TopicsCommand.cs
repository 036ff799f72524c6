using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ZeroLane.Cli.Output;
using ZeroLane.Duplex;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane topics</c>: every topic on this host with its publishers and subscribers (liveness, queue fill, drops),
/// read without joining; with <c>--watch</c> refreshed every second with rates; with <c>--json</c> one object per topic per line.
/// The table is followed by the duplex services and their client counts, which also meet at names without a daemon.
/// </summary>
internal static class TopicsCommand
{
    private static readonly TimeSpan s_refreshInterval = TimeSpan.FromSeconds(1);

    internal static Command Create()
    {
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh every second, with rates per second, until Ctrl+C." };
        var count = new Option<int?>("--count") { Description = "With --watch: stop after this many refreshes.", HelpName = "n" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per topic per line (per refresh with --watch)." };
        var command = new Command("topics", "List the topics on this host: publishers, subscribers, liveness, queue fill, drops (and rates with --watch); then the duplex services and their clients.")
        {
            watch, count, json,
        };
        command.SetAction((parseResult, cancellationToken) =>
            RunAsync(parseResult.GetValue(watch), parseResult.GetValue(count), parseResult.GetValue(json), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(bool watch, int? count, bool json, CancellationToken cancellationToken)
    {
        CliErrors.Require(count is null or >= 1, "--count must be at least 1.");
        TopicSnapshot snapshot = TopicInspector.Snapshot();
        if (!watch && count is null)
        {
            Console.Out.Write(json ? Json(snapshot, rates: null) : Table(snapshot, rates: null) + ServicesText.Table(DuplexServiceInspector.List()) + GatewaysTable());
            return 0;
        }
        bool live = !json && !Console.IsOutputRedirected;
        int previousLines = 0;
        TopicSnapshot? previous = null;
        for (int refresh = 1; ; refresh++)
        {
            IReadOnlyList<TopicPublisherRate>? rates = previous is null ? null : snapshot.RatesSince(previous);
            string block = json
                ? Json(snapshot, rates)
                : $"{snapshot.TakenAt.ToLocalTime():HH:mm:ss}  (every {s_refreshInterval.TotalSeconds:0} s, Ctrl+C to stop)\n" + Table(snapshot, rates) +
                    ServicesText.Table(DuplexServiceInspector.List()) + GatewaysTable();
            if (live && previousLines > 0)
            {
                // Move up over the previous block and clear it, so the figures update in place.
                Console.Out.Write($"\u001b[{previousLines}A\u001b[J");
            }
            else if (!live && !json && refresh > 1)
            {
                Console.Out.Write("\n");
            }
            Console.Out.Write(block);
            previousLines = block.Count(c => c == '\n');
            if (refresh == count)
            {
                return 0;
            }
            await Task.Delay(s_refreshInterval, cancellationToken).ConfigureAwait(false);
            previous = snapshot;
            snapshot = TopicInspector.Snapshot();
        }
    }

    /// <summary>One row per publisher, one per subscriber entry under it, and one per subscriber not yet joined to any.</summary>
    internal static string Table(TopicSnapshot snapshot, IReadOnlyList<TopicPublisherRate>? rates)
    {
        if (snapshot.Topics.Count == 0)
        {
            return "No topics.\n";
        }
        var table = new TextTable("TOPIC", "ROLE", "PROCESS", "ID", "STATE", "PUBLISHED>", "QUEUE>", "DROPPED>", "RATE/S>", "DETAILS");
        foreach (TopicInfo topic in snapshot.Topics)
        {
            var joined = new HashSet<ulong>();
            foreach (TopicPublisherInfo publisher in topic.Publishers)
            {
                TopicPublisherRate? rate = rates?.FirstOrDefault(r => r.Segment == publisher.Segment);
                bool readable = publisher.State != TopicPublisherState.Unreadable;
                table.AddRow(
                    topic.Topic,
                    "publisher",
                    publisher.State == TopicPublisherState.Closed ? $"{publisher.Pid} (left)" : StatsText.Peer(publisher.Pid, publisher.Alive),
                    Hex(publisher.Id),
                    Lower(publisher.State),
                    readable ? Units.Count(publisher.SamplesPublished) : "-",
                    "-",
                    readable ? Units.Count(publisher.Subscribers.Aggregate(0UL, (sum, s) => sum + s.Dropped)) : "-",
                    rate is null ? "-" : Rate(rate.SamplesPerSecond),
                    publisher.Error ?? (publisher.State == TopicPublisherState.Creating ? "" : PublisherDetails(publisher)));
                foreach (TopicSubscriberEntryInfo entry in publisher.Subscribers)
                {
                    joined.Add(entry.Id);
                    TopicSubscriberRate? subscriberRate = rate?.Subscribers.FirstOrDefault(s => s.Entry == entry.Entry && s.SubscriberId == entry.Id);
                    table.AddRow(
                        topic.Topic,
                        "  subscriber",
                        StatsText.Peer(entry.Pid, entry.Alive),
                        Hex(entry.Id),
                        Lower(entry.State),
                        "-",
                        $"{entry.Queued}/{entry.QueueDepth}",
                        Units.Count(entry.Dropped),
                        subscriberRate is null ? "-" : Rate(subscriberRate.SamplesPerSecond),
                        entry.Error ?? ((entry.Overflow == OverflowPolicy.BlockPublisher ? "blocks the publisher when full" : "drops its oldest when full") +
                            (entry.Inherited ? "; still reading the segment before" : "")));
                }
            }
            foreach (TopicSubscriberInfo subscriber in topic.Subscribers.Where(s => !joined.Contains(s.Id)))
            {
                table.AddRow(topic.Topic, "subscriber", StatsText.Peer(subscriber.Pid, subscriber.Alive), Hex(subscriber.Id),
                    subscriber.Alive ? "waiting" : "gone", "-", "-", "-", "-", "joined to no publisher");
            }
        }
        return table.ToString();
    }

    /// <summary>The NATS gateways of the host (their status files), or nothing when there is none.</summary>
    internal static string GatewaysTable()
    {
        IReadOnlyList<ZeroLane.Nats.NatsGatewayInfo> gateways = ZeroLane.Nats.NatsGatewayInspector.List();
        if (gateways.Count == 0)
        {
            return "";
        }
        var text = new System.Text.StringBuilder("\nNATS gateways:\n");
        foreach (ZeroLane.Nats.NatsGatewayInfo gateway in gateways)
        {
            ZeroLane.Nats.NatsGatewayStatistics s = gateway.Statistics;
            text.Append(CultureInfo.InvariantCulture,
                $"  {s.Name} (pid {gateway.Pid}{(gateway.Alive ? "" : ", gone")}, {(gateway.Server.Length > 0 ? "on " + gateway.Server : "reconnecting")}): " +
                $"sent {Units.Count((ulong)s.SamplesSent)} samples ({Units.Bytes(s.BytesSent)}), received {Units.Count((ulong)s.SamplesReceived)} ({Units.Bytes(s.BytesReceived)}), " +
                $"dropped {Units.Count((ulong)s.SamplesDroppedLocally)}, lost {Units.Count((ulong)s.SamplesLost)}, rejected {Units.Count((ulong)s.MessagesRejected)}, " +
                $"reconnects {s.Reconnects}; exporting [{string.Join(", ", s.ExportedTopics)}], importing [{string.Join(", ", s.ImportedTopics)}]\n");
        }
        return text.ToString();
    }

    private static string PublisherDetails(TopicPublisherInfo publisher) =>
        (publisher.Forwarded ? $"gateway: forwards publisher {Hex(publisher.ForwardedFrom)} of another host, {Units.Count(publisher.ForwardLost)} lost on the way; " : "") +
        (publisher.Successor != 0 ? $"grew into segment {Hex(publisher.Successor)}; " : "") +
        $"slots {publisher.SlotsInUse}/{publisher.Slots} in use, max sample {Units.Bytes(publisher.MaxSampleSize)}, " +
        $"history {publisher.HistoryKept}/{publisher.HistoryCapacity}, writes full {Units.Count(publisher.FullWrites)} modified {Units.Count(publisher.ModifiedWrites)}" +
        (publisher.Predecessor != 0 ? $"; continues segment {Hex(publisher.Predecessor)}" : "");

    private static string Hex(ulong id) => id.ToString("x16", CultureInfo.InvariantCulture);

    private static string Lower<T>(T value) where T : Enum => value.ToString().ToLowerInvariant();

    private static string Rate(double perSecond) => perSecond.ToString("N1", CultureInfo.InvariantCulture);

    /// <summary>One JSON object per topic, one per line; rates (samples per second) only when <paramref name="rates"/> is given.</summary>
    internal static string Json(TopicSnapshot snapshot, IReadOnlyList<TopicPublisherRate>? rates)
    {
        var lines = new System.Text.StringBuilder();
        foreach (TopicInfo topic in snapshot.Topics)
        {
            var buffer = new ArrayBufferWriter<byte>(1024);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("topic", topic.Topic);
                json.WriteString("takenAt", snapshot.TakenAt);
                json.WriteStartArray("publishers");
                foreach (TopicPublisherInfo publisher in topic.Publishers)
                {
                    TopicPublisherRate? rate = rates?.FirstOrDefault(r => r.Segment == publisher.Segment);
                    WritePublisher(json, publisher, rate);
                }
                json.WriteEndArray();
                json.WriteStartArray("subscribers");
                foreach (TopicSubscriberInfo subscriber in topic.Subscribers)
                {
                    json.WriteStartObject();
                    json.WriteNumber("pid", subscriber.Pid);
                    json.WriteString("id", Hex(subscriber.Id));
                    json.WriteBoolean("alive", subscriber.Alive);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            lines.Append(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan)).Append('\n');
        }
        return lines.ToString();
    }

    private static void WritePublisher(Utf8JsonWriter json, TopicPublisherInfo publisher, TopicPublisherRate? rate)
    {
        json.WriteStartObject();
        json.WriteString("segment", publisher.Segment);
        json.WriteNumber("pid", publisher.Pid);
        json.WriteString("id", Hex(publisher.Id));
        json.WriteString("segmentId", Hex(publisher.SegmentId));
        json.WriteString("successor", Hex(publisher.Successor));
        json.WriteString("predecessor", Hex(publisher.Predecessor));
        json.WriteBoolean("alive", publisher.Alive);
        json.WriteString("state", Lower(publisher.State));
        json.WriteNumber("samplesPublished", publisher.SamplesPublished);
        json.WriteNumber("fullWrites", publisher.FullWrites);
        json.WriteNumber("modifiedWrites", publisher.ModifiedWrites);
        json.WriteNumber("slotsInUse", publisher.SlotsInUse);
        json.WriteNumber("slots", publisher.Slots);
        json.WriteNumber("maxSampleSize", publisher.MaxSampleSize);
        json.WriteNumber("queueDepth", publisher.QueueDepth);
        json.WriteNumber("maxSubscribers", publisher.MaxSubscribers);
        json.WriteNumber("historyCapacity", publisher.HistoryCapacity);
        json.WriteNumber("historyKept", publisher.HistoryKept);
        json.WriteNumber("segmentSize", publisher.SegmentSize);
        json.WriteBoolean("forwarded", publisher.Forwarded);
        if (publisher.Forwarded)
        {
            json.WriteString("forwardedFrom", Hex(publisher.ForwardedFrom));
            json.WriteNumber("forwardLost", publisher.ForwardLost);
        }
        if (rate is not null)
        {
            json.WriteNumber("samplesPerSecond", Math.Round(rate.SamplesPerSecond, 3));
        }
        if (publisher.Error is not null)
        {
            json.WriteString("error", publisher.Error);
        }
        json.WriteStartArray("subscribers");
        foreach (TopicSubscriberEntryInfo entry in publisher.Subscribers)
        {
            json.WriteStartObject();
            json.WriteNumber("entry", entry.Entry);
            json.WriteNumber("pid", entry.Pid);
            json.WriteString("id", Hex(entry.Id));
            json.WriteBoolean("alive", entry.Alive);
            json.WriteString("state", Lower(entry.State));
            json.WriteNumber("queued", entry.Queued);
            json.WriteNumber("queueDepth", entry.QueueDepth);
            json.WriteNumber("head", entry.Head);
            json.WriteNumber("tail", entry.Tail);
            json.WriteNumber("dropped", entry.Dropped);
            json.WriteString("overflow", entry.Overflow == OverflowPolicy.BlockPublisher ? "block" : "drop");
            json.WriteBoolean("inherited", entry.Inherited);
            if (rate?.Subscribers.FirstOrDefault(s => s.Entry == entry.Entry && s.SubscriberId == entry.Id) is { } subscriberRate)
            {
                json.WriteNumber("samplesPerSecond", Math.Round(subscriberRate.SamplesPerSecond, 3));
                json.WriteNumber("droppedPerSecond", Math.Round(subscriberRate.DroppedPerSecond, 3));
            }
            if (entry.Error is not null)
            {
                json.WriteString("error", entry.Error);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
