using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>
/// The bench part <c>duplex</c>: duplex channels (src/ZeroLane/Duplex) between two processes, against the ring's
/// ping-pong of the same run.
/// </summary>
/// <remarks>
/// Design: each measurement is a fresh pair of <see cref="DuplexPeer"/> processes on a channel of its own, the server
/// first (it creates NAME_request), the client once it is ready, as the ring's pairs are run (<see cref="RunPairAsync"/>,
/// busy-spin pairs pinned by <see cref="Place"/>). Round-trip rows (mode <see cref="BenchResult.RoundTrip"/>) report the
/// WHOLE round trip of one <c>Request</c> call, not half of it as the ring's latency rows do. Each is set beside the ring's
/// latency row of the same size and strategy: reused when the ring part measured it, otherwise measured here with the ring
/// part's own <see cref="RingLatencyAsync"/>, its runs interleaved with the duplex runs (ring, echo, loan, ring, ...) so that
/// a drifting load on a shared machine hits both alike; the run-by-run ratios go to the notes. The summary compares the
/// duplex round trip with twice the ring's one-way figure, which is the ring's round trip. Pipelining rows (mode throughput) count requests/s with 1, 4 and 16
/// requests in flight.
/// </remarks>
internal sealed partial class BenchRunner
{
    /// <summary>The transport of the rows whose server answers with the echo handler (the request's span, copied).</summary>
    internal const string DuplexTransport = "zerolane-duplex";

    /// <summary>The transport of the rows whose server answers with the loan handler (written into the response ring).</summary>
    internal const string DuplexLoanTransport = "zerolane-duplex-loan";

    /// <summary>Round-trip sizes without <c>--sizes</c>.</summary>
    internal static readonly int[] DuplexRoundTripSizes = [64, 1 << 20];

    /// <summary>The size of the pipelining rows without <c>--sizes</c>.</summary>
    internal const int DuplexPipelineBytes = 64;

    /// <summary>Requests kept in flight by the pipelining rows.</summary>
    internal static readonly int[] DuplexInFlight = [1, 4, 16];

    private async Task RunDuplexAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<int> sizes = _settings.SizesGiven ? _settings.Sizes : DuplexRoundTripSizes;
        var ratios = new List<string>();
        foreach (WaitStrategy wait in _settings.Waits)
        {
            foreach (int size in sizes)
            {
                // Interleaved (ring, echo, loan, ring, echo, loan, ...) rather than each measured --repeat times in a row: on a
                // shared machine the load drifts between runs, and the ratio should compare runs taken side by side.
                bool measureRing = !Measured(BenchResult.ZeroLane, BenchResult.Latency, wait, size);
                var ring = new List<BenchResult>();
                var echo = new List<BenchResult>();
                var loan = new List<BenchResult>();
                for (int run = 0; run < _settings.Repeat; run++)
                {
                    if (measureRing)
                    {
                        ring.Add(await RingLatencyAsync(wait, size, cancellationToken).ConfigureAwait(false));
                    }
                    echo.Add(await DuplexRoundTripAsync(wait, size, loan: false, cancellationToken).ConfigureAwait(false));
                    loan.Add(await DuplexRoundTripAsync(wait, size, loan: true, cancellationToken).ConfigureAwait(false));
                }
                if (measureRing)
                {
                    Add(BenchResult.Combine(ring));
                }
                Add(BenchResult.Combine(echo));
                Add(BenchResult.Combine(loan));
                if (measureRing && _settings.Repeat > 1)
                {
                    ratios.Add($"{BenchTable.FormatSize(size)} {BenchWait.NameOf(wait)} echo {RunRatios(echo, ring)}, loan {RunRatios(loan, ring)}");
                }
            }
        }
        if (ratios.Count > 0)
        {
            Tell("duplex: round-trip p50 / the ring's round-trip p50 (2 x one-way) run by run, each duplex run measured right after the ring's "
                + "(the rows show the medians): " + string.Join("; ", ratios) + ".");
        }
        WaitStrategy pipelineWait = TopicBench.ThroughputWait(_settings);
        foreach (int size in _settings.SizesGiven ? _settings.Sizes : [DuplexPipelineBytes])
        {
            foreach (int inFlight in DuplexInFlight)
            {
                Add(await RepeatAsync(() => DuplexPipelinedAsync(pipelineWait, size, inFlight, cancellationToken)).ConfigureAwait(false));
            }
        }
        Tell("duplex: a DuplexServer in one process (its own thread reads each request in place, touches it as the ring's echo does and "
            + "answers it with the request's bytes: zerolane-duplex returns request.Span from a DuplexRequestHandler, which the server copies into "
            + "the response frame; zerolane-duplex-loan writes it into the response loan of a DuplexLoanHandler), a DuplexClient in another. "
            + "round-trip rows: p50/p99/... are the WHOLE round trip of one Request call (send, server, response, touch, release), one clock read "
            + "per call; the zerolane latency rows beside them are one way (half the ring's ping-pong round trip), so the summary sets the duplex "
            + "round trip against twice the ring's one-way figure, the ring's own round trip. Throughput rows: requests/s through SendRequest/"
            + $"ReceiveResponse with 1, 4 and 16 requests in flight (column in-flight), {BenchWait.NameOf(pipelineWait)}, rings sized to hold every "
            + "request in flight. alloc: client / server per call; the server's is its serving thread's, measured by the handler itself.");
    }

    private async Task<BenchResult> DuplexRoundTripAsync(WaitStrategy wait, int frameBytes, bool loan, CancellationToken cancellationToken)
    {
        string name = NewBufferName() + "-duplex";
        try
        {
            PeerOptions server = PeerFor(PeerOptions.EchoRole, name, null, frameBytes, wait) with { Writer = loan ? DuplexPeer.LoanHandler : null };
            PeerOptions client = server with { Role = PeerOptions.InitiatorRole, Writer = null };
            (server, client, string? cpus) = Place(server, client);
            double? crossCore = CrossCoreNs(cpus);
            (PeerReport serverReport, PeerReport clientReport) = await RunPairAsync(DuplexPeer.CommandName, server, client, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(loan ? DuplexLoanTransport : DuplexTransport, BenchResult.RoundTrip, BenchWait.NameOf(wait), frameBytes,
                measured: clientReport, sender: clientReport, receiver: serverReport) with { Cpus = cpus, CrossCoreNs = crossCore };
        }
        finally
        {
            RemoveDuplexChannel(name);
        }
    }

    private async Task<BenchResult> DuplexPipelinedAsync(WaitStrategy wait, int frameBytes, int inFlight, CancellationToken cancellationToken)
    {
        string name = NewBufferName() + "-duplex";
        try
        {
            PeerOptions server = PeerFor(PeerOptions.EchoRole, name, null, frameBytes, wait) with { PayloadBytes = DuplexPayloadBytes(frameBytes, inFlight) };
            PeerOptions client = server with { Role = PeerOptions.WriterRole, InFlight = inFlight };
            (server, client, string? cpus) = Place(server, client);
            double? crossCore = CrossCoreNs(cpus);
            (PeerReport serverReport, PeerReport clientReport) = await RunPairAsync(DuplexPeer.CommandName, server, client, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(DuplexTransport, BenchResult.Throughput, BenchWait.NameOf(wait), frameBytes,
                measured: clientReport, sender: clientReport, receiver: serverReport) with { Cpus = cpus, CrossCoreNs = crossCore, InFlight = inFlight };
        }
        finally
        {
            RemoveDuplexChannel(name);
        }
    }

    /// <summary>Each duplex run's p50 over the ring run's round-trip p50 (twice its one-way p50) taken just before it: "1.05, 1.10, 0.98".</summary>
    private static string RunRatios(IReadOnlyList<BenchResult> duplex, IReadOnlyList<BenchResult> ring) => string.Join(", ", duplex.Zip(ring,
        (d, r) => d.P50Ns is double p50 && r.P50Ns is double oneWay && oneWay > 0
            ? (p50 / (2 * oneWay)).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)
            : "-"));

    /// <summary>
    /// Payload block of both rings of a pipelining row: the ring's usual block, or more when that cannot hold every request
    /// in flight (each with its frame header and room for a wrap): a client blocked on a full request ring while the server
    /// blocks on a full response ring would wait for each other until the deadline.
    /// </summary>
    internal static long DuplexPayloadBytes(int frameBytes, int inFlight) =>
        Math.Max(BenchSettings.PayloadBytesFor(frameBytes), (inFlight + 2L) * (frameBytes + 64) + 64 * 1024);

    /// <summary>The server and the client remove their rings when they exit; this only matters when a peer was killed.</summary>
    private static void RemoveDuplexChannel(string name)
    {
        RemoveBuffer(name + "_request");
        RemoveBuffer(name + "_response");
    }
}
