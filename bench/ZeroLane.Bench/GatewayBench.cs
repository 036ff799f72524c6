using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NATS.Client.Core;
using ZeroLane.Buffers;
using ZeroLane.Messages.Transport;
using ZeroLane.Nats;
using ZeroLane.Topics;

namespace ZeroLane.Bench;

/// <summary>
/// The bench part <c>gateway</c> (issue 13): topic samples carried publisher -> export-only <see cref="NatsGateway"/> ->
/// nats-server -> import-only <see cref="NatsGateway"/> -> subscriber on loopback, against plain NATS.Net publishing the
/// same bytes through the same server and against the ring bridge (<see cref="RingBridge"/>, what <c>zerolane bridge</c>
/// runs) over TCP loopback, each at 1 MiB, 1080p (6,220,800 B) and 64 B; and <see cref="NatsSampleSender.Send"/> alone in
/// a loop, for what the send side allocates per sample.
/// </summary>
/// <remarks>
/// <para>Design: everything runs in the bench process, each side on threads of its own: the publisher, both gateways (each
/// with its own NATS connection, the export one on its own thread, the import one on NATS.Net's read loop), the
/// subscriber; likewise the plain NATS.Net publisher and subscriber (two connections) and the bridge's writer, sender,
/// receiver and reader. Peer processes would add nothing the measurement needs (the gateways' hot paths are the same
/// threads either way, and the machine's cores are what they share) and would take away the allocation figure of the whole
/// path, which <see cref="GC.GetTotalAllocatedBytes"/> gives for one process only. The two gateways share this host's
/// /dev/shm: export-only on one, import-only on the other, so the subscriber sees the publisher's own samples as well as
/// the forwarded ones and counts only those with <see cref="Sample.Forwarded"/>.</para>
/// <para>Fairness: each publisher produces its sample in place and stamps its sequence number into one word per 4 KiB page
/// (a topic loan, a ring loan, or the plain publisher's reused array), and each receiver touches every page of what it
/// gets, as the other parts do. Both NATS paths keep at most <see cref="InFlightFor"/> samples in flight (about 16 MiB; a
/// credit returned by the subscriber per sample delivered), so the server never sees a slow consumer and nothing is
/// dropped; the bridge is held back by its far ring, of the same size. The gateway's export side blocks the publisher
/// (<see cref="OverflowPolicy.BlockPublisher"/>) rather than drop; drops and credit stalls anywhere are counted and printed.</para>
/// </remarks>
internal sealed class GatewayBench
{
    /// <summary>The gateway as <c>zerolane gateway</c> runs it: samples on its own connection (<see cref="NatsDirectConnection"/>).</summary>
    internal const string GatewayTransport = "zerolane-gateway";

    /// <summary>The gateway with <see cref="NatsGatewayOptions.DirectConnection"/> off: samples through NATS.Net.</summary>
    internal const string GatewayNatsNetTransport = "zerolane-gateway-natsnet";

    internal const string NatsTransport = "nats";
    internal const string BridgeTransport = "zerolane-bridge-tcp";

    /// <summary>The send loop through NATS.Net.</summary>
    internal const string SenderTransport = "nats-sample-sender";

    /// <summary>The send loop on the gateway's own connection.</summary>
    internal const string DirectSenderTransport = "direct-sample-sender";

    /// <summary>The mode of the send-loop rows: <see cref="NatsSampleSender.Send"/> alone, to a server with no subscriber.</summary>
    internal const string SendLoop = "send-loop";

    /// <summary>The sizes of the path rows without <c>--sizes</c>.</summary>
    internal static readonly int[] Sizes = [1 << 20, BenchSettings.VideoFrameBytes, 64];

    /// <summary>The sizes of the send-loop rows without <c>--sizes</c>.</summary>
    internal static readonly int[] SendLoopSizes = [64, 1 << 20];

    /// <summary>What each path may have in flight, in bytes: turned into samples by <see cref="InFlightFor"/>.</summary>
    internal const long InFlightBytes = 16 << 20;

    private static readonly TimeSpan s_creditWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly BenchSettings _settings;
    private readonly Action<BenchResult> _add;
    private readonly Action<string> _note;
    private readonly Action<string> _skipped;
    private readonly string _namePrefix = $"zlbench-{Environment.ProcessId}-";
    private readonly List<string> _events = new();
    private readonly Dictionary<string, int> _closeFailures = new();
    private int _counter;

    internal GatewayBench(BenchSettings settings, Action<BenchResult> add, Action<string> note, Action<string> skipped)
    {
        _settings = settings;
        _add = add;
        _note = note;
        _skipped = skipped;
    }

    /// <summary>Samples each NATS path keeps in flight at <paramref name="size"/>: 16 MiB of them, 4 to 1,024.</summary>
    internal static int InFlightFor(int size) => (int)Math.Clamp(InFlightBytes / size, 4, 1024);

    internal static IReadOnlyList<int> SizesFor(BenchSettings settings) => settings.SizesGiven ? settings.Sizes : Sizes;

    internal static IReadOnlyList<int> SendLoopSizesFor(BenchSettings settings) => settings.SizesGiven ? settings.Sizes : SendLoopSizes;

    /// <param name="results">The rows so far: memcpy is measured here unless the run measured it already.</param>
    internal async Task RunAsync(IReadOnlyList<BenchResult> results, CancellationToken cancellationToken)
    {
        if (BenchNatsServer.Missing() is string missing)
        {
            _skipped($"gateway: skipped: {missing}.");
            return;
        }
        if (!results.Any(r => r.Transport == BenchResult.MemoryCopy))
        {
            // The ratios are read against the machine's copy bandwidth, as the other parts' are.
            _add(Repeat(() => MemoryCopyBench.Run(_settings.WarmupSeconds, _settings.Seconds)));
        }
        using BenchNatsServer server = BenchNatsServer.Start(_namePrefix);
        try
        {
            await MeasureAsync(server, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException e)
        {
            // The tool reports an InvalidOperationException in one line, as every expected failure.
            throw new InvalidOperationException($"gateway: NATS failed: {e.Message}", e);
        }
    }

    private async Task MeasureAsync(BenchNatsServer server, CancellationToken cancellationToken)
    {
        var ratios = new List<string>();
        foreach (int size in SizesFor(_settings))
        {
            // Interleaved (gateway, nats, bridge, gateway, ...): on a shared machine the load drifts, and the ratios should
            // compare runs taken side by side.
            var gateway = new List<BenchResult>();
            var viaNatsNet = new List<BenchResult>();
            var nats = new List<BenchResult>();
            var bridge = new List<BenchResult>();
            for (int run = 0; run < _settings.Repeat; run++)
            {
                gateway.Add(await GatewayAsync(server, size, direct: true, cancellationToken).ConfigureAwait(false));
                nats.Add(await PlainNatsAsync(server, size, cancellationToken).ConfigureAwait(false));
                viaNatsNet.Add(await GatewayAsync(server, size, direct: false, cancellationToken).ConfigureAwait(false));
                bridge.Add(await BridgeAsync(size, cancellationToken).ConfigureAwait(false));
            }
            _add(BenchResult.Combine(gateway));
            _add(BenchResult.Combine(viaNatsNet));
            _add(BenchResult.Combine(nats));
            _add(BenchResult.Combine(bridge));
            if (_settings.Repeat > 1)
            {
                ratios.Add($"{BenchTable.FormatSize(size)} plain NATS.Net {RunRatios(gateway, nats)}, bridge {RunRatios(gateway, bridge)}, "
                    + $"gateway through NATS.Net over plain NATS.Net {RunRatios(viaNatsNet, nats)}");
            }
        }
        if (ratios.Count > 0)
        {
            _note("gateway: delivered samples/s of the gateway over the baseline's, run by run, each baseline run measured right after the gateway's "
                + "(the rows show the medians): " + string.Join("; ", ratios) + ".");
        }
        foreach (int size in SendLoopSizesFor(_settings))
        {
            _add(await RepeatAsync(() => SendLoopAsync(server, size, direct: true, cancellationToken)).ConfigureAwait(false));
            _add(await RepeatAsync(() => SendLoopAsync(server, size, direct: false, cancellationToken)).ConfigureAwait(false));
        }
        _note("gateway: send side through NATS.Net (DirectConnection off), bytes allocated per sample on the sending thread, split (highest of the runs): " + string.Join("; ",
            _sendLoopAllocation.OrderBy(pair => pair.Key).Select(pair => string.Create(CultureInfo.InvariantCulture,
                $"{BenchTable.FormatSize(pair.Key)}: NATS.Net inside PublishAsync {pair.Value.Client:0.##} B, NatsSampleSender's own {pair.Value.Own:0.##} B")))
            + ". NATS.Net 3.3 allocates when a publish finds its send pipe above the pause threshold (NatsOpts.WriterBufferSize, 64 KiB): a task "
            + "for the pipe's flush (CommandWriter.EnqueueCommand: FlushAsync().AsTask()) and a timer for the wait on it (PublishStateMachineAsync: "
            + "_flushTask.WaitAsync(CommandTimeout)), and a new array when ArrayPool.Shared misses for its payload copy (NatsPooledBufferWriter).");
        _note("gateway: publisher -> export-only NatsGateway -> nats-server -> import-only NatsGateway -> subscriber, all in this process on threads "
            + "of their own (zerolane-gateway: each gateway started from a NatsEndpoint, as 'zerolane gateway' does, so samples go on its own "
            + "connection, NatsDirectConnection; zerolane-gateway-natsnet: each started on a NATS.Net connection, samples through NATS.Net; "
            + "the gateways' connections apart, both on this host's /dev/shm; the subscriber counts only samples with "
            + "Forwarded = true), against plain NATS.Net (one connection publishing byte[], another subscribing with NatsMemoryOwner<byte>, same "
            + "server) and the ring bridge over TCP loopback (RingBridge.SendAsync/ReceiveAsync, what 'zerolane bridge' runs, between two rings of "
            + "this process). Rates are samples delivered to the receiver per second over the window. Each publisher stamps its sample in place "
            + "(one word per 4 KiB page: topic loan, ring loan, reused array); each receiver touches every page. Both NATS paths keep at most "
            + $"{InFlightBytes >> 20} MiB in flight (4 to 1,024 samples; a credit per sample delivered), the bridge a far ring of that size; the "
            + "export gateway blocks the publisher (Overflow = BlockPublisher) rather than drop. nats-server: 127.0.0.1 only, "
            + $"max_payload {BenchNatsServer.MaxPayload >> 20} MiB (so plain NATS.Net takes 1080p whole and the gateway sends it unchunked).");
        _note("gateway: alloc on the path rows (JSON allocated_bytes_per_frame) = GC.GetTotalAllocatedBytes(precise) over the window / samples "
            + "delivered: the WHOLE bench process (both gateways, their discovery every 200 ms, NATS.Net's loops, publisher, subscriber), not "
            + "one side. send-loop rows: NatsSampleSender.Send in a loop on one thread after warm-up (no subscriber; the server drops it), "
            + "on the gateway's own connection (direct-sample-sender) or through NATS.Net (nats-sample-sender), each call saying more follow "
            + "(as the export loop does while its queue is not empty: small samples go out together); tx alloc = bytes that thread "
            + "allocated per sample, the lower half of the window, everything included; for NATS.Net the notes split it into NATS.Net's (inside "
            + "its PublishAsync) and the sender's own.");
        if (_events.Count > 0)
        {
            _note("gateway: " + string.Join("; ", _events) + ".");
        }
        else
        {
            _note("gateway: no sample was dropped, lost or refused on any path, and no publisher waited a second for a credit.");
        }
        if (_closeFailures.Count > 0)
        {
            _note("gateway: " + string.Join("; ", _closeFailures.Select(pair => pair.Value == 1 ? pair.Key : $"{pair.Key}, {pair.Value} times")) + ".");
        }
    }

    /// <summary>Each gateway run's rate over the baseline run taken right after it: "0.95, 1.01, 0.97".</summary>
    private static string RunRatios(IReadOnlyList<BenchResult> gateway, IReadOnlyList<BenchResult> baseline) => string.Join(", ", gateway.Zip(baseline,
        (g, b) => g.FramesPerSec is double rate && b.FramesPerSec is double other && other > 0
            ? (rate / other).ToString("0.00", CultureInfo.InvariantCulture)
            : "-"));

    private BenchResult Repeat(Func<BenchResult> measure)
    {
        var runs = new List<BenchResult>(_settings.Repeat);
        for (int run = 0; run < _settings.Repeat; run++)
        {
            runs.Add(measure());
        }
        return BenchResult.Combine(runs);
    }

    private async Task<BenchResult> RepeatAsync(Func<Task<BenchResult>> measure)
    {
        var runs = new List<BenchResult>(_settings.Repeat);
        for (int run = 0; run < _settings.Repeat; run++)
        {
            runs.Add(await measure().ConfigureAwait(false));
        }
        return BenchResult.Combine(runs);
    }

    private string NewName(string kind) => string.Create(CultureInfo.InvariantCulture, $"{_namePrefix}{kind}-{++_counter}");

    /// <summary>The endpoint a gateway is started from when its own connection carries the samples (as <c>zerolane gateway</c> does).</summary>
    private NatsEndpoint Endpoint(BenchNatsServer server, string name) => new()
    {
        Urls = [server.Url],
        Name = _namePrefix + name,
        MaxReconnectRetry = 0,
    };

    private NatsOpts ConnectionOptions(BenchNatsServer server, string name) => NatsOpts.Default with
    {
        Url = server.Url,
        Name = _namePrefix + name,
        Echo = false,
        MaxReconnectRetry = 0,
        // A loaded 2-core machine can take longer than NATS.Net's default 5 s to flush a command behind 1080p samples.
        CommandTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>
    /// Closes a connection once its run is measured: a failure to close (a command timing out behind a backlog on a loaded
    /// machine) is noted rather than thrown, since the figures are in; the server forgets the connection when it goes.
    /// </summary>
    private async Task CloseAsync(IAsyncDisposable connection, string what)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NatsException or TimeoutException or OperationCanceledException)
        {
            string failure = $"closing the {what} failed after its run ({e.GetType().Name}: {e.Message})";
            _closeFailures[failure] = _closeFailures.GetValueOrDefault(failure) + 1;
        }
    }

    /// <summary>
    /// The gateway path at <paramref name="size"/>: one run, the gateways started from a <see cref="NatsEndpoint"/> (their own
    /// connections carry the samples) when <paramref name="direct"/>, else on NATS.Net connections made here.
    /// </summary>
    private async Task<BenchResult> GatewayAsync(BenchNatsServer server, int size, bool direct, CancellationToken cancellationToken)
    {
        string transport = direct ? GatewayTransport : GatewayNatsNetTransport;
        string topic = NewName("gw");
        int inFlight = InFlightFor(size);
        var publisherOptions = new PublisherOptions
        {
            MaxSampleSize = size,
            QueueDepth = inFlight,
            Slots = 2 * inFlight + 8,
            AcknowledgeTimeout = TimeSpan.FromSeconds(30),
        };
        // The import side's publisher queues every sample in flight twice over: the export gateway's subscriber sees it too
        // (same /dev/shm) and skips it, and must never hold it back.
        PublisherOptions importOptions = publisherOptions with { QueueDepth = 2 * inFlight, Slots = 4 * inFlight + 8 };
        var credits = new SemaphoreSlim(inFlight);
        long delivered = 0;
        ulong checksum = 0;
        var stop = new CancellationTokenSource();
        Exception? failure = null;
        Thread? producing = null, consuming = null;
        NatsGateway? exporter = null, importer = null;
        NatsConnection? exportConnection = direct ? null : new NatsConnection(ConnectionOptions(server, "gateway-export"));
        NatsConnection? importConnection = direct ? null : new NatsConnection(ConnectionOptions(server, "gateway-import"));
        var subscriber = new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher });
        var publisher = new Publisher(topic, publisherOptions);
        long stalls = 0;
        try
        {
            var importing = new NatsGatewayOptions
            {
                Name = _namePrefix + "import",
                Topics = [topic],
                Direction = GatewayDirection.Import,
                ImportOptions = importOptions,
            };
            var exporting = new NatsGatewayOptions
            {
                Name = _namePrefix + "export",
                Topics = [topic],
                Direction = GatewayDirection.Export,
                Overflow = OverflowPolicy.BlockPublisher,
            };
            importer = importConnection is not null
                ? await NatsGateway.StartAsync(importConnection, importing, cancellationToken).ConfigureAwait(false)
                : await NatsGateway.StartAsync(Endpoint(server, "gateway-import"), importing, log: null, cancellationToken).ConfigureAwait(false);
            exporter = exportConnection is not null
                ? await NatsGateway.StartAsync(exportConnection, exporting, cancellationToken).ConfigureAwait(false)
                : await NatsGateway.StartAsync(Endpoint(server, "gateway-export"), exporting, log: null, cancellationToken).ConfigureAwait(false);
            if (!exporter.Statistics.ExportedTopics.Contains(topic) || !importer.Statistics.ImportedTopics.Contains(topic))
            {
                throw new InvalidOperationException($"gateway: the gateways did not take up topic '{topic}' (export: {exporter.Statistics.LastError}; import: {importer.Statistics.LastError}).");
            }
            consuming = StartThread("gateway subscriber", () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (subscriber.TryRead(out Sample sample, TimeSpan.FromMilliseconds(100)) != ReadStatus.Success)
                    {
                        continue;
                    }
                    using (sample)
                    {
                        if (sample.Forwarded)
                        {
                            checksum += FrameToucher.Touch(sample.Span);
                            Interlocked.Increment(ref delivered);
                            credits.Release();
                        }
                        else
                        {
                            checksum += FrameToucher.Touch(sample.Span[..Math.Min(sample.Length, 8)]);
                        }
                    }
                }
            }, e => failure ??= e);
            producing = StartThread("gateway publisher", () =>
            {
                ulong sequence = 0;
                while (!stop.IsCancellationRequested)
                {
                    if (!credits.Wait(s_creditWait))
                    {
                        Interlocked.Increment(ref stalls);
                    }
                    if (publisher.TryLoan(size, out FrameLoan loan, TimeSpan.FromSeconds(5)) != WriteStatus.Success)
                    {
                        Interlocked.Increment(ref stalls);
                        continue;
                    }
                    Stamp(loan.Span[..size], ++sequence);
                    loan.Commit(size);
                }
            }, e => failure ??= e);

            BenchResult result = MeasureWindow(transport, size, () => Interlocked.Read(ref delivered), () => failure);
            NatsGatewayStatistics exported = exporter.Statistics;
            NatsGatewayStatistics imported = importer.Statistics;
            long lost = exported.SamplesDroppedLocally + exported.SendFailures + imported.SamplesLost + imported.MessagesRejected + subscriber.SamplesDropped;
            if (lost > 0 || Interlocked.Read(ref stalls) > 0)
            {
                _events.Add($"{BenchTable.FormatSize(size)} {transport} run: {exported.SamplesDroppedLocally} dropped by the export side, {exported.SendFailures} send failures, "
                    + $"{imported.SamplesLost} lost on the way ({imported.SamplesWithoutRoom} for want of room), {imported.MessagesRejected} rejected, "
                    + $"{subscriber.SamplesDropped} dropped from the subscriber's queue (publisher's own samples included), {stalls} credit or loan stalls");
            }
            GC.KeepAlive(checksum);
            return result;
        }
        finally
        {
            stop.Cancel();
            producing?.Join();
            consuming?.Join();
            // Gateways first (they hold subscribers and publishers of the topic), then the local ends, then the connections.
            if (exporter is not null)
            {
                await exporter.DisposeAsync().ConfigureAwait(false);
            }
            if (importer is not null)
            {
                await importer.DisposeAsync().ConfigureAwait(false);
            }
            publisher.Dispose();
            subscriber.Dispose();
            if (exportConnection is not null)
            {
                await CloseAsync(exportConnection, "export gateway's connection").ConfigureAwait(false);
            }
            if (importConnection is not null)
            {
                await CloseAsync(importConnection, "import gateway's connection").ConfigureAwait(false);
            }
            credits.Dispose();
            stop.Dispose();
            TopicBench.RemoveTopic(topic);
        }
    }

    /// <summary>Plain NATS.Net at <paramref name="size"/>: one run.</summary>
    private async Task<BenchResult> PlainNatsAsync(BenchNatsServer server, int size, CancellationToken cancellationToken)
    {
        string subject = NewName("nats").Replace('-', '_');
        int inFlight = InFlightFor(size);
        var credits = new SemaphoreSlim(inFlight);
        long delivered = 0;
        ulong checksum = 0;
        var stop = new CancellationTokenSource();
        Exception? failure = null;
        Thread? producing = null;
        Task? consuming = null;
        long stalls = 0;
        var publishing = new NatsConnection(ConnectionOptions(server, "nats-publisher"));
        var receiving = new NatsConnection(ConnectionOptions(server, "nats-subscriber"));
        INatsSub<NatsMemoryOwner<byte>>? subscription = null;
        try
        {
            await publishing.ConnectAsync().ConfigureAwait(false);
            await receiving.ConnectAsync().ConfigureAwait(false);
            subscription = await receiving.SubscribeCoreAsync<NatsMemoryOwner<byte>>(subject, cancellationToken: cancellationToken).ConfigureAwait(false);
            {
                // The server reads a connection's commands in order: its answer means it has the subscription.
                await receiving.PingAsync(cancellationToken).ConfigureAwait(false);
                consuming = Task.Run(async () =>
                {
                    System.Threading.Channels.ChannelReader<NatsMsg<NatsMemoryOwner<byte>>> messages = subscription!.Msgs;
                    while (await messages.WaitToReadAsync(stop.Token).ConfigureAwait(false))
                    {
                        while (messages.TryRead(out NatsMsg<NatsMemoryOwner<byte>> message))
                        {
                            using NatsMemoryOwner<byte> data = message.Data;
                            checksum += FrameToucher.Touch(data.Memory.Span);
                            Interlocked.Increment(ref delivered);
                            credits.Release();
                        }
                    }
                }, CancellationToken.None);
                byte[] payload = new byte[size];
                FrameToucher.FillPattern(payload);
                var waiter = new BlockingWait();
                producing = StartThread("nats publisher", () =>
                {
                    ulong sequence = 0;
                    while (!stop.IsCancellationRequested)
                    {
                        if (!credits.Wait(s_creditWait))
                        {
                            Interlocked.Increment(ref stalls);
                        }
                        Stamp(payload, ++sequence);
                        waiter.Wait(publishing.PublishAsync(subject, payload, cancellationToken: CancellationToken.None));
                    }
                }, e => failure ??= e);

                BenchResult result = MeasureWindow(NatsTransport, size, () => Interlocked.Read(ref delivered),
                    () => failure ?? (consuming.IsFaulted ? consuming.Exception : null));
                if (Interlocked.Read(ref stalls) > 0)
                {
                    _events.Add($"{BenchTable.FormatSize(size)} plain NATS run: {stalls} credit stalls");
                }
                GC.KeepAlive(checksum);
                return result;
            }
        }
        finally
        {
            stop.Cancel();
            producing?.Join();
            if (consuming is not null)
            {
                try
                {
                    await consuming.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
            if (subscription is not null)
            {
                await CloseAsync(subscription, "plain subscription").ConfigureAwait(false);
            }
            await CloseAsync(publishing, "plain publisher's connection").ConfigureAwait(false);
            await CloseAsync(receiving, "plain subscriber's connection").ConfigureAwait(false);
            credits.Dispose();
            stop.Dispose();
        }
    }

    /// <summary>The ring bridge over TCP loopback at <paramref name="size"/>: one run.</summary>
    private async Task<BenchResult> BridgeAsync(int size, CancellationToken cancellationToken)
    {
        string near = NewName("bridge") + "-near";
        string far = near[..^"near".Length] + "far";
        long payloadBytes = (long)InFlightFor(size) * (size + 64) + 64 * 1024;
        long delivered = 0;
        ulong checksum = 0;
        var stop = new CancellationTokenSource();
        bool abandon = false;
        Exception? failure = null;
        Thread? producing = null, consuming = null;
        Task<RingBridgeResult>? sending = null, receiving = null;
        try
        {
            using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = payloadBytes });
            using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = payloadBytes });
            using var listener = MessageListener.ListenTcp(0, IPAddress.Loopback, backlog: 1);
            MessageConnection client = await MessageConnection.ConnectTcpAsync("127.0.0.1", listener.Port, cancellationToken: cancellationToken).ConfigureAwait(false);
            MessageConnection server = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            var farWriter = new RingWriter(far);
            sending = RingBridge.SendAsync(nearReader, client, cancellationToken);
            receiving = RingBridge.ReceiveAsync(server, farWriter, cancellationToken);
            consuming = StartThread("bridge reader", () =>
            {
                while (!Volatile.Read(ref abandon))
                {
                    ReadStatus status = farReader.TryRead(out Frame frame, TimeSpan.FromMilliseconds(100));
                    if (status == ReadStatus.Success)
                    {
                        using (frame)
                        {
                            checksum += FrameToucher.Touch(frame.Span);
                            Interlocked.Increment(ref delivered);
                        }
                    }
                    else if (status == ReadStatus.WriterDisconnected)
                    {
                        return;
                    }
                }
            }, e => failure ??= e);
            var nearWriter = new RingWriter(near);
            producing = StartThread("bridge writer", () =>
            {
                using (nearWriter)
                {
                    ulong sequence = 0;
                    while (!stop.IsCancellationRequested)
                    {
                        if (nearWriter.TryLoan(size, out FrameLoan loan, TimeSpan.FromMilliseconds(100)) != WriteStatus.Success)
                        {
                            continue;
                        }
                        Stamp(loan.Span[..size], ++sequence);
                        loan.Commit(size);
                    }
                }
            }, e => failure ??= e);

            BenchResult result = MeasureWindow(BridgeTransport, size, () => Interlocked.Read(ref delivered),
                () => failure ?? (sending.IsFaulted ? sending.Exception : receiving.IsFaulted ? receiving.Exception : null));
            stop.Cancel();
            producing.Join();
            producing = null;
            // The near writer is gone: the bridge forwards what is left, ends the stream, and the far reader sees its writer leave.
            await sending.WaitAsync(s_startTimeout, cancellationToken).ConfigureAwait(false);
            await receiving.WaitAsync(s_startTimeout, cancellationToken).ConfigureAwait(false);
            consuming.Join();
            consuming = null;
            GC.KeepAlive(checksum);
            return result;
        }
        finally
        {
            stop.Cancel();
            producing?.Join();
            Volatile.Write(ref abandon, true);
            consuming?.Join();
            stop.Dispose();
            RemoveRing(near);
            RemoveRing(far);
        }
    }

    /// <summary>
    /// <see cref="NatsSampleSender.Send"/> of a sample in native memory, in a loop on one thread, on a
    /// <see cref="NatsDirectConnection"/> when <paramref name="direct"/>, else through NATS.Net: one run.
    /// </summary>
    private async Task<BenchResult> SendLoopAsync(BenchNatsServer server, int size, bool direct, CancellationToken cancellationToken)
    {
        var connection = new NatsConnection(ConnectionOptions(server, "sender"));
        NatsDirectConnection? own = direct ? new NatsDirectConnection(Endpoint(server, "direct-sender")) : null;
        BenchResult? result = null;
        Exception? failure = null;
        try
        {
            if (own is not null)
            {
                // Only the direct connection is used; NATS.Net's stays unopened.
                own.Connect(cancellationToken);
            }
            else
            {
                await connection.ConnectAsync().ConfigureAwait(false);
            }
            var sender = new NatsSampleSender(connection, NatsSubjects.ForTopic(NewName("sender")), senderId: 1, jetStream: null, own);
            Thread thread = StartThread("send loop", () => result = SendFor(sender, size, direct), e => failure = e);
            await Task.Run(thread.Join, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            own?.Dispose();
            await CloseAsync(connection, "send loop's connection").ConfigureAwait(false);
        }
        if (failure is not null)
        {
            throw new InvalidOperationException($"gateway: the send loop failed: {failure.Message}", failure);
        }
        return result!;
    }

    private unsafe BenchResult SendFor(NatsSampleSender sender, int size, bool direct)
    {
        byte* memory = (byte*)NativeMemory.Alloc((nuint)size);
        try
        {
            var sample = new ReadOnlySpan<byte>(memory, size);
            FrameToucher.FillPattern(new Span<byte>(memory, size));
            ulong sequence = 0;
            long warmupEnd = Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(_settings.WarmupSeconds);
            do
            {
                sender.Send(sample, 1, ++sequence, 1, CancellationToken.None, more: true);
            }
            while (Stopwatch.GetTimestamp() < warmupEnd);
            // Two halves: the lower per-sample figure is the steady state (a one-time allocation shows in one half only).
            var halves = new (long Sends, long Total, long Client, long Ticks)[2];
            for (int half = 0; half < 2; half++)
            {
                long started = Stopwatch.GetTimestamp();
                long end = started + PeerChannel.SecondsToTicks(_settings.Seconds / 2);
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                long client = sender.ClientAllocatedBytes;
                long sends = 0;
                do
                {
                    sender.Send(sample, 1, ++sequence, 1, CancellationToken.None, more: true);
                    sends++;
                }
                while (Stopwatch.GetTimestamp() < end);
                sender.SendBatch(CancellationToken.None);
                halves[half] = (sends, GC.GetAllocatedBytesForCurrentThread() - allocated, sender.ClientAllocatedBytes - client, Stopwatch.GetTimestamp() - started);
            }
            var lower = halves.MinBy(h => (double)h.Total / h.Sends);
            double seconds = (halves[0].Ticks + halves[1].Ticks) / (double)Stopwatch.Frequency;
            double rate = (halves[0].Sends + halves[1].Sends) / seconds;
            double own = (double)(lower.Total - lower.Client) / lower.Sends;
            if (!direct)
            {
                lock (_sendLoopAllocation)
                {
                    _sendLoopAllocation[size] = _sendLoopAllocation.TryGetValue(size, out var seen)
                        ? (Math.Max(seen.Client, (double)lower.Client / lower.Sends), Math.Max(seen.Own, own))
                        : ((double)lower.Client / lower.Sends, own);
                }
            }
            return new BenchResult
            {
                Transport = direct ? DirectSenderTransport : SenderTransport,
                Mode = SendLoop,
                FrameBytes = size,
                FramesPerSec = rate,
                BytesPerSec = rate * size,
                AllocatedBytesPerFrame = (double)lower.Total / lower.Sends,
                SenderAllocatedBytesPerFrame = (double)lower.Total / lower.Sends,
            };
        }
        finally
        {
            NativeMemory.Free(memory);
        }
    }

    private readonly Dictionary<int, (double Client, double Own)> _sendLoopAllocation = new();

    /// <summary>
    /// Per send-loop size: NATS.Net's bytes per sample inside its PublishAsync and the sender's own (the highest over the
    /// runs), for the summary.
    /// </summary>
    internal IReadOnlyDictionary<int, (double Client, double Own)> SendLoopAllocation => _sendLoopAllocation;

    /// <summary>
    /// Waits out the warm-up (and for the first delivery), then counts deliveries over the window, with the whole process's
    /// allocation over it; on this thread, asleep, so the measuring itself allocates nothing.
    /// </summary>
    private BenchResult MeasureWindow(string transport, int size, Func<long> delivered, Func<Exception?> failure)
    {
        var clock = Stopwatch.StartNew();
        while (delivered() == 0)
        {
            ThrowIfFailed(transport, failure);
            if (clock.Elapsed > s_startTimeout)
            {
                throw new TimeoutException($"gateway: {transport} {BenchTable.FormatSize(size)} delivered nothing within {s_startTimeout.TotalSeconds:0} s.");
            }
            Thread.Sleep(10);
        }
        Thread.Sleep(TimeSpan.FromSeconds(_settings.WarmupSeconds));
        ThrowIfFailed(transport, failure);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long before = delivered();
        long started = Stopwatch.GetTimestamp();
        Thread.Sleep(TimeSpan.FromSeconds(_settings.Seconds));
        // A window that saw nothing (a stall on a loaded machine, with a short --seconds) is drawn out until something
        // arrives, so the rate counts the stall rather than the run failing; a path that delivers nothing for 30 s has failed.
        var stalled = Stopwatch.StartNew();
        while (delivered() == before)
        {
            ThrowIfFailed(transport, failure);
            if (stalled.Elapsed > s_startTimeout)
            {
                throw new TimeoutException($"gateway: {transport} {BenchTable.FormatSize(size)} delivered nothing for {s_startTimeout.TotalSeconds:0} s.");
            }
            Thread.Sleep(1);
        }
        long after = delivered();
        long ended = Stopwatch.GetTimestamp();
        long allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        ThrowIfFailed(transport, failure);
        long samples = after - before;
        double rate = samples / ((ended - started) / (double)Stopwatch.Frequency);
        return new BenchResult
        {
            Transport = transport,
            Mode = BenchResult.Throughput,
            FrameBytes = size,
            FramesPerSec = rate,
            BytesPerSec = rate * size,
            AllocatedBytesPerFrame = (double)(allocatedAfter - allocatedBefore) / samples,
        };
    }

    private static void ThrowIfFailed(string transport, Func<Exception?> failure)
    {
        if (failure() is Exception e)
        {
            throw new InvalidOperationException($"gateway: the {transport} run failed: {e.Message}", e);
        }
    }

    private static Thread StartThread(string name, Action body, Action<Exception> failed)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failed(e);
            }
        })
        { IsBackground = true, Name = "zerolane bench " + name };
        thread.Start();
        return thread;
    }

    /// <summary>Writes <paramref name="sequence"/> into one word per 4 KiB page of the sample: it is produced in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stamp(Span<byte> sample, ulong sequence)
    {
        if (sample.Length < sizeof(ulong))
        {
            sample[0] = (byte)sequence;
            return;
        }
        ref byte start = ref MemoryMarshal.GetReference(sample);
        for (int offset = 0; offset <= sample.Length - sizeof(ulong); offset += FrameToucher.Stride)
        {
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref start, offset), sequence);
        }
    }

    private static void RemoveRing(string name)
    {
        try
        {
            BufferInspector.Clean(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ZeroLaneException)
        {
        }
    }

    /// <summary>
    /// Blocks a thread until a <see cref="ValueTask"/> completes without allocating (AsTask would, on every publish that
    /// waits for NATS.Net's send buffer): a continuation made once sets an event.
    /// </summary>
    private sealed class BlockingWait
    {
        private readonly ManualResetEventSlim _completed = new(initialState: false, spinCount: 0);
        private readonly Action _signal;

        internal BlockingWait() => _signal = _completed.Set;

        internal void Wait(ValueTask pending)
        {
            if (pending.IsCompletedSuccessfully)
            {
                pending.GetAwaiter().GetResult();
                return;
            }
            _completed.Reset();
            ValueTaskAwaiter awaiter = pending.GetAwaiter();
            awaiter.UnsafeOnCompleted(_signal);
            _completed.Wait();
            awaiter.GetResult();
        }
    }
}
