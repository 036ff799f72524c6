using System.Diagnostics;
using ZeroLane.Topics;

namespace ZeroLane.Bench;

/// <summary>
/// The bench part <c>topics</c>: ZeroLane topics (one publisher, one or more subscribers, each its own process), rows
/// with transport <c>zerolane-topic</c>: 64 B one-way latency per wait strategy; throughput per subscriber at 64 B, 1 MiB
/// and 8 MiB with 1 and 4 subscribers; an 8 MiB sample changed by one byte per send through a payload writer,
/// <c>modified</c> (WriteModified) against <c>full</c> (WriteFull).
/// </summary>
/// <remarks>
/// Design: each measurement starts fresh processes of <see cref="TopicPeer"/> on a topic of its own, receivers first (the
/// subscribers, or the echo), then the sender once they are ready, as <see cref="BenchRunner"/> runs the ring's pairs. The
/// sizes are the part's own unless <c>--sizes</c> is given (then latency and throughput rows take its sizes, writer rows
/// its largest); latency rows follow <c>--wait</c>, the other rows use the
/// library's default strategy, spin-then-block (or the first one given when <c>--wait</c> leaves it out): with 4
/// subscribers and a publisher on a 2-core machine, spinning processes would only measure the scheduler. Whatever happens,
/// every process is gone and nothing of the topic remains in /dev/shm when a measurement returns or throws.
/// </remarks>
internal sealed class TopicBench
{
    /// <summary>The size of the latency rows.</summary>
    internal const int LatencyBytes = 64;

    /// <summary>The size of the payload-writer rows.</summary>
    internal const int WriterBytes = 8 << 20;

    /// <summary>The sizes of the throughput rows.</summary>
    internal static readonly int[] ThroughputSizes = [64, 1 << 20, 8 << 20];

    /// <summary>Subscriber processes of the throughput rows.</summary>
    internal static readonly int[] SubscriberCounts = [1, 4];

    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    private readonly BenchSettings _settings;
    private readonly Func<IEnumerable<string>, ProcessStartInfo> _startTool;
    private readonly Action<BenchResult> _add;
    private readonly Action<string> _note;
    private readonly (int First, int Second)? _busySpinCpus;
    private int _counter;

    internal TopicBench(
        BenchSettings settings, Func<IEnumerable<string>, ProcessStartInfo> startTool, Action<BenchResult> add, Action<string> note, (int, int)? busySpinCpus)
    {
        _settings = settings;
        _busySpinCpus = busySpinCpus;
        _startTool = startTool;
        _add = add;
        _note = note;
    }

    /// <summary>The sizes of the latency rows: 64 B, or every size of <c>--sizes</c> when given.</summary>
    internal static IReadOnlyList<int> LatencySizes(BenchSettings settings) => settings.SizesGiven ? settings.Sizes : [LatencyBytes];

    /// <summary>The sizes of the throughput rows: 64 B, 1 MiB and 8 MiB, or every size of <c>--sizes</c> when given.</summary>
    internal static IReadOnlyList<int> ThroughputSizesFor(BenchSettings settings) => settings.SizesGiven ? settings.Sizes : ThroughputSizes;

    /// <summary>The size of the payload-writer rows: 8 MiB, or the largest size of <c>--sizes</c> when given.</summary>
    internal static int WriterBytesFor(BenchSettings settings) => settings.SizesGiven ? settings.Sizes.Max() : WriterBytes;

    /// <summary>The strategy of the throughput and payload-writer rows: the library's default when the run measures it.</summary>
    internal static WaitStrategy ThroughputWait(BenchSettings settings) =>
        settings.Waits.Contains(WaitStrategy.SpinThenBlock) ? WaitStrategy.SpinThenBlock : settings.Waits[0];

    /// <summary>
    /// The strategies of the subscriber-throughput rows: every one asked for but busy-spin (four spinning subscribers and a
    /// spinning publisher on a 2-core machine would measure the scheduler), unless busy-spin is all that was asked for.
    /// Blocking is there because with more processes than cores, spinning takes the time the others need.
    /// </summary>
    internal static IReadOnlyList<WaitStrategy> ThroughputWaits(BenchSettings settings)
    {
        WaitStrategy[] waits = settings.Waits.Where(wait => wait != WaitStrategy.BusySpin).ToArray();
        return waits.Length > 0 ? waits : [settings.Waits[0]];
    }

    internal async Task RunAsync(CancellationToken cancellationToken)
    {
        foreach (WaitStrategy wait in _settings.Waits)
        {
            foreach (int size in LatencySizes(_settings))
            {
                _add(await LatencyAsync(wait, size, cancellationToken).ConfigureAwait(false));
            }
        }
        WaitStrategy throughputWait = ThroughputWait(_settings);
        long dropped = 0;
        foreach (WaitStrategy wait in ThroughputWaits(_settings))
        {
            foreach (int size in ThroughputSizesFor(_settings))
            {
                foreach (int subscribers in SubscriberCounts)
                {
                    (BenchResult result, long lost) = await ThroughputAsync(wait, size, subscribers, null, cancellationToken).ConfigureAwait(false);
                    dropped += lost;
                    _add(result);
                }
            }
        }
        var writes = new List<string>();
        var writerTimes = new List<double>();
        foreach (string writer in new[] { BenchResult.FullWriter, BenchResult.ModifiedWriter })
        {
            (BenchResult result, long lost) = await ThroughputAsync(throughputWait, WriterBytesFor(_settings), 1, writer, cancellationToken).ConfigureAwait(false);
            dropped += lost;
            _add(result);
            writes.Add($"{writer} row {_lastModifiedWrites:N0} of {_lastFullWrites + _lastModifiedWrites:N0}");
            writerTimes.Add(_lastWriterNsPerSend);
        }
        _note((_settings.SizesGiven
                ? $"topics: latency and throughput at the sizes of --sizes, writer rows at the largest ({BenchTable.FormatSize(WriterBytesFor(_settings))}); "
                : "topics: latency at 64 B, throughput at 64 B, 1 MiB and 8 MiB, writer rows at 8 MiB (--sizes sets them all); ")
            + $"each row measured once (not --repeat); busy-spin latency peers pinned as the ring's are; throughput counts the samples each subscriber received between Start and Stop (rates per subscriber: the mean over "
            + $"subscribers); subscribers touch every sample as the ring's reader does and block the publisher rather than lose samples "
            + $"(dropped in the whole part: {dropped:N0}); queue depth {TopicPeer.QueueDepthFor(64)} samples at 64 B and "
            + $"{TopicPeer.QueueDepthFor(1 << 20)} at 1 MiB and 8 MiB, twice as many slots; throughput rows use {string.Join(" and ", ThroughputWaits(_settings).Select(BenchWait.NameOf))}, writer rows {BenchWait.NameOf(throughputWait)}.");
        _note($"topics: writer rows send a {BenchTable.FormatSize(WriterBytesFor(_settings))} sample changed in one byte per send through a payload writer on a topic of {TopicPeer.WriterSlots} slot "
            + "(each send waits for the subscriber to release the previous sample, so the slot still holds it); the full writer copies the whole sample "
            + $"in WriteModified too. Sends the library passed to WriteModified (warm-up included): {string.Join("; ", writes)}.");
        if (writerTimes.Count == 2 && writerTimes[1] > 0)
        {
            // The rates above include the wait for the subscriber to release the one slot; this is what the write itself costs.
            _note($"topics: time in the payload writer per {BenchTable.FormatSize(WriterBytesFor(_settings))} send (the write itself, without the wait for the subscriber): "
                + $"WriteFull {writerTimes[0]:N0} ns, WriteModified {writerTimes[1]:N0} ns = {writerTimes[0] / writerTimes[1]:N0}x.");
        }
    }

    private long _lastFullWrites;
    private long _lastModifiedWrites;
    private double _lastWriterNsPerSend;

    internal async Task<BenchResult> LatencyAsync(WaitStrategy wait, int frameBytes, CancellationToken cancellationToken)
    {
        string ping = NewTopicName() + "-ping";
        string pong = ping[..^"ping".Length] + "pong";
        try
        {
            PeerOptions echo = PeerFor(PeerOptions.EchoRole, ping, pong, frameBytes, wait);
            PeerOptions initiator = echo with { Role = PeerOptions.InitiatorRole };
            string? cpus = null;
            if (wait == WaitStrategy.BusySpin && _busySpinCpus is (int first, int second))
            {
                (echo, initiator, cpus) = (echo with { Cpu = first }, initiator with { Cpu = second }, $"{first},{second}");
            }
            PeerReport[] reports = await RunGroupAsync([echo], initiator, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(BenchResult.ZeroLaneTopic, BenchResult.Latency, BenchWait.NameOf(wait), frameBytes,
                measured: reports[1], sender: reports[1], receiver: reports[0]) with { Subscribers = 1, Cpus = cpus };
        }
        finally
        {
            RemoveTopic(ping);
            RemoveTopic(pong);
        }
    }

    internal async Task<(BenchResult Result, long Dropped)> ThroughputAsync(
        WaitStrategy wait, int frameBytes, int subscribers, string? writer, CancellationToken cancellationToken)
    {
        string topic = NewTopicName();
        try
        {
            PeerOptions subscriber = PeerFor(PeerOptions.SubscriberRole, topic, null, frameBytes, wait);
            PeerOptions publisher = subscriber with { Role = PeerOptions.PublisherRole, Subscribers = subscribers, Writer = writer };
            PeerReport[] reports = await RunGroupAsync(Enumerable.Repeat(subscriber, subscribers).ToArray(), publisher, cancellationToken).ConfigureAwait(false);
            PeerReport sender = reports[^1];
            ArraySegment<PeerReport> receivers = new(reports, 0, subscribers);
            _lastFullWrites = sender.FullWrites;
            _lastModifiedWrites = sender.ModifiedWrites;
            _lastWriterNsPerSend = sender.WriterNsPerSend;
            double framesPerSec = receivers.Average(r => r.ElapsedNs > 0 ? r.Frames / (r.ElapsedNs / 1e9) : 0);
            double receiverAllocation = receivers.Max(r => r.AllocatedBytesPerFrame);
            var result = new BenchResult
            {
                Transport = BenchResult.ZeroLaneTopic,
                Mode = BenchResult.Throughput,
                Wait = BenchWait.NameOf(wait),
                FrameBytes = frameBytes,
                FramesPerSec = framesPerSec,
                BytesPerSec = framesPerSec * frameBytes,
                AllocatedBytesPerFrame = sender.AllocatedBytesPerFrame + receiverAllocation,
                SenderAllocatedBytesPerFrame = sender.AllocatedBytesPerFrame,
                ReceiverAllocatedBytesPerFrame = receiverAllocation,
                Subscribers = subscribers,
                Writer = writer,
            };
            return (result, receivers.Sum(r => r.Dropped));
        }
        finally
        {
            RemoveTopic(topic);
        }
    }

    private PeerOptions PeerFor(string role, string name, string? replyName, int frameBytes, WaitStrategy wait) => new(
        role, name, replyName, frameBytes, BenchSettings.PayloadBytesFor(frameBytes), wait,
        _settings.WarmupSeconds, _settings.Seconds, _settings.MaxSamples);

    /// <summary>
    /// Starts every receiving peer and waits until each is ready, then the sender; returns the receivers' reports, then the
    /// sender's. If any peer fails, every other is killed at once (disposing them).
    /// </summary>
    private async Task<PeerReport[]> RunGroupAsync(PeerOptions[] receivers, PeerOptions sender, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(_settings.WarmupSeconds + _settings.Seconds + 60);
        string what = $"{TopicPeer.CommandName} {sender.FrameBytes} B {BenchWait.NameOf(sender.Wait)}";
        var processes = new List<PeerProcess>();
        try
        {
            foreach (PeerOptions receiver in receivers)
            {
                processes.Add(PeerProcess.Start(_startTool, receiver.ToArguments(TopicPeer.CommandName), $"{what} {receiver.Role}"));
            }
            // Started together, waited for together: each process's start-up (about a quarter of a second) overlaps the others'.
            foreach (PeerProcess receiver in processes)
            {
                await receiver.WaitReadyAsync(s_readyTimeout, cancellationToken).ConfigureAwait(false);
            }
            processes.Add(PeerProcess.Start(_startTool, sender.ToArguments(TopicPeer.CommandName), $"{what} {sender.Role}"));
            Task<PeerReport>[] reports = processes.Select(process => process.WaitReportAsync(timeout, cancellationToken)).ToArray();
            var pending = new List<Task<PeerReport>>(reports);
            while (pending.Count > 0)
            {
                Task<PeerReport> done = await Task.WhenAny(pending).ConfigureAwait(false);
                await done.ConfigureAwait(false); // the first failure ends the group (finally kills the rest)
                pending.Remove(done);
            }
            return reports.Select(report => report.Result).ToArray();
        }
        finally
        {
            foreach (PeerProcess process in processes)
            {
                process.Dispose();
            }
        }
    }

    private string NewTopicName() => $"zlbench-{Environment.ProcessId}-topic-{++_counter}";

    /// <summary>
    /// Each peer removes its objects when it exits; a killed one leaves its segment or semaphore, which any new participant of
    /// the topic removes (their owners are dead): so one subscriber joins and leaves when something is left.
    /// </summary>
    internal static void RemoveTopic(string topic)
    {
        if (!LeftoversOf(topic).Any())
        {
            return;
        }
        try
        {
            new Subscriber(topic, new SubscriberOptions()).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ZeroLaneException)
        {
        }
    }

    /// <summary>The topic's objects in /dev/shm: publisher segments and semaphores, subscriber semaphores.</summary>
    internal static IEnumerable<string> LeftoversOf(string topic) =>
        Directory.EnumerateFiles("/dev/shm", $"zlt.{topic}.*").Concat(Directory.EnumerateFiles("/dev/shm", $"sem.zlt.{topic}.*"));
}
