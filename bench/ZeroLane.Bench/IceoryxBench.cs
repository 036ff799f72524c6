using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>
/// The bench part <c>iceoryx</c>: a real peer measured in the same run as the ring, Eclipse iceoryx (classic, Debian's
/// 2.0.3) through its C binding. Throughput and latency at every frame size of the run, for the ring's wait strategies
/// iceoryx has: busy-spin (polling) and blocking (a waitset); iceoryx has no spin-then-block.
/// </summary>
/// <remarks>
/// Design: <see cref="IceoryxPeerBuild"/> builds the C peer (<c>iceoryx/iceoryx_peer.c</c>) once per source,
/// <see cref="IceoryxRouDi"/> starts RouDi for the run, and each measurement is a fresh pair of peer processes speaking
/// the ring peers' lines ("ready", then one JSON report), run like the ring's pairs: the receiving side (sub, pong)
/// first, the sending side once it is ready. Each subscriber's queue holds about as many bytes as the ring's payload
/// block (<see cref="BenchSettings.PayloadBytesFor"/>), from 4 samples up to iceoryx's limit of 256, and each frame
/// size has a mempool of that many chunks plus a few for loans in flight. Runtime names start with
/// <c>zlbench-iox-PID-</c>; iceoryx keeps a socket and a lock file per runtime in /tmp, which a killed peer leaves
/// behind, so the run removes every such file it named when it ends, and those of runs whose process is gone when it
/// starts. Whatever happens, RouDi is stopped and its shared memory removed before <see cref="RunAsync"/> returns or
/// throws.
/// </remarks>
internal static class IceoryxBench
{
    internal const string Transport = "iceoryx";

    /// <summary>iceoryx 2.0's compiled-in subscriber queue limit (MAX_SUBSCRIBER_QUEUE_CAPACITY).</summary>
    internal const int MaxQueue = 256;

    private const int MinQueue = 4;

    /// <summary>Chunks of each mempool beyond the queue: the sender's loan and the receiver's held sample, both ways.</summary>
    private const int ChunksInFlight = 4;

    /// <summary>Where iceoryx 2.0 puts each runtime's socket and lock file (compiled in, not $TMPDIR).</summary>
    private const string RuntimeFileDirectory = "/tmp";

    /// <summary>Runtime names are this, the bench's process ID, a dash and a counter.</summary>
    private const string RuntimePrefix = "zlbench-iox-";

    /// <summary>The run's scratch directory (RouDi's configuration and working directory) is this, the process ID and a dash.</summary>
    private const string ScratchPrefix = "zerolane-iceoryx-";

    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Measures iceoryx and hands each result to <paramref name="add"/> as soon as it is measured; says through
    /// <paramref name="note"/> what the rows mean, and through <paramref name="skipped"/> why there are none (not
    /// installed, another RouDi running, no wait strategy iceoryx has).
    /// </summary>
    internal static async Task RunAsync(
        BenchSettings settings, Action<BenchResult> add, Action<string> note, Action<string> skipped, CancellationToken cancellationToken)
    {
        WaitStrategy[] waits = settings.Waits.Where(wait => wait is WaitStrategy.BusySpin or WaitStrategy.Blocking).ToArray();
        if (waits.Length == 0)
        {
            skipped("iceoryx: skipped (it has no spin-then-block; measure it with --wait busy-spin or blocking)");
            return;
        }
        if (!IceoryxInstallation.TryFind(out IceoryxInstallation? installation, out string? missing))
        {
            skipped(missing!);
            return;
        }

        RemoveLeftoversOfDeadRuns();
        string scratch = Directory.CreateTempSubdirectory($"{ScratchPrefix}{Environment.ProcessId}-").FullName;
        string runtimePrefix = $"{RuntimePrefix}{Environment.ProcessId}-";
        try
        {
            string peer = await IceoryxPeerBuild.BuildAsync(installation!, scratch, cancellationToken).ConfigureAwait(false);
            await using IceoryxRouDi? rouDi = await IceoryxRouDi.StartAsync(
                peer, installation!.RouDiPath, scratch, Mempools(settings.Sizes), cancellationToken).ConfigureAwait(false);
            if (rouDi is null)
            {
                skipped("iceoryx: skipped (another RouDi already runs on this machine, and iceoryx 2.0 allows one: stop it, then run the bench again)");
                return;
            }
            var run = new PairRunner(peer, runtimePrefix, settings);
            foreach (WaitStrategy wait in waits)
            {
                foreach (int size in settings.Sizes)
                {
                    add(await run.MeasureAsync(BenchResult.Throughput, wait, size, cancellationToken).ConfigureAwait(false));
                }
            }
            foreach (WaitStrategy wait in waits)
            {
                foreach (int size in settings.Sizes)
                {
                    add(await run.MeasureAsync(BenchResult.Latency, wait, size, cancellationToken).ConfigureAwait(false));
                }
            }
            note($"iceoryx: Debian's iceoryx {installation.Version} through its C binding, a C peer per side and a RouDi started for this run "
                + $"(shared memory {string.Join(", ", rouDi.ReservedSegments)}); the sender loans a chunk and copies the frame in, the subscriber "
                + "touches it in place; busy-spin polls iox_sub_take_chunk, blocking waits in a waitset; neither end drops samples; "
                + "no allocation figures (not .NET).");
        }
        finally
        {
            RemoveRuntimeFiles(runtimePrefix);
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>The subscriber queue for frames of <paramref name="frameBytes"/>: about the ring's payload block, within iceoryx's limits.</summary>
    internal static int QueueFor(int frameBytes) => (int)Math.Clamp(BenchSettings.PayloadBytesFor(frameBytes) / frameBytes, MinQueue, MaxQueue);

    /// <summary>One mempool per frame size (payload sizes rounded up to iceoryx's 8-byte chunk alignment), smallest first.</summary>
    internal static IReadOnlyList<(long Size, int Count)> Mempools(IReadOnlyList<int> sizes) =>
        sizes.GroupBy(size => (size + 7L) & ~7L)
            .Select(pool => (pool.Key, pool.Max(QueueFor) + ChunksInFlight))
            .OrderBy(pool => pool.Key)
            .ToArray();

    /// <summary>
    /// Removes what runs killed outright (SIGKILL) left: their peers' runtime files and their scratch directories, for
    /// every process ID in those names that no longer runs. (Their RouDi stopped by itself: see <see cref="IceoryxRouDi"/>.)
    /// </summary>
    private static void RemoveLeftoversOfDeadRuns()
    {
        foreach ((string directory, string prefix) in new[] { (RuntimeFileDirectory, RuntimePrefix), (Path.GetTempPath(), ScratchPrefix) })
        {
            try
            {
                foreach (string path in Directory.EnumerateFileSystemEntries(directory, prefix + "*"))
                {
                    string rest = Path.GetFileName(path)[prefix.Length..];
                    int dash = rest.IndexOf('-', StringComparison.Ordinal);
                    if (dash > 0 && int.TryParse(rest.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                        && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                    {
                        if (Directory.Exists(path))
                        {
                            Directory.Delete(path, recursive: true);
                        }
                        else
                        {
                            File.Delete(path);
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private static void RemoveRuntimeFiles(string runtimePrefix)
    {
        try
        {
            foreach (string file in Directory.EnumerateFiles(RuntimeFileDirectory, runtimePrefix + "*"))
            {
                File.Delete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Runs one measured pair of peer processes and turns the measuring side's report into a row.</summary>
    private sealed class PairRunner(string peer, string runtimePrefix, BenchSettings settings)
    {
        private int _counter;

        internal async Task<BenchResult> MeasureAsync(string mode, WaitStrategy wait, int frameBytes, CancellationToken cancellationToken)
        {
            bool latency = mode == BenchResult.Latency;
            string name = runtimePrefix + (++_counter).ToString(CultureInfo.InvariantCulture);
            string waitName = BenchWait.NameOf(wait);
            string[] Arguments(string role) =>
            [
                role, waitName, name,
                frameBytes.ToString(CultureInfo.InvariantCulture),
                QueueFor(frameBytes).ToString(CultureInfo.InvariantCulture),
                settings.WarmupSeconds.ToString("R", CultureInfo.InvariantCulture),
                settings.Seconds.ToString("R", CultureInfo.InvariantCulture),
                settings.MaxSamples.ToString(CultureInfo.InvariantCulture),
            ];
            (string server, string client) = latency ? ("pong", "ping") : ("sub", "pub");
            string what = $"iceoryx peer {frameBytes} B {waitName}";
            var timeout = TimeSpan.FromSeconds(settings.WarmupSeconds + settings.Seconds + 60);

            using PeerProcess serverProcess = PeerProcess.Start(StartInfo, Arguments(server), $"{what} {server}");
            await serverProcess.WaitReadyAsync(s_readyTimeout, cancellationToken).ConfigureAwait(false);
            using PeerProcess clientProcess = PeerProcess.Start(StartInfo, Arguments(client), $"{what} {client}");
            await clientProcess.WaitReadyAsync(s_readyTimeout, cancellationToken).ConfigureAwait(false);
            Task<string> serverReport = serverProcess.WaitReportLineAsync(timeout, cancellationToken);
            Task<string> clientReport = clientProcess.WaitReportLineAsync(timeout, cancellationToken);
            await await Task.WhenAny(serverReport, clientReport).ConfigureAwait(false);
            string serverLine = await serverReport.ConfigureAwait(false);
            string clientLine = await clientReport.ConfigureAwait(false);
            // Rates as the ring's rows count them: at the subscriber for throughput, at the pinging side for latency.
            return ToResult(mode, waitName, frameBytes, latency ? clientLine : serverLine);
        }

        private ProcessStartInfo StartInfo(IEnumerable<string> arguments)
        {
            var startInfo = new ProcessStartInfo(peer)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (string argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }
            return startInfo;
        }

        private static BenchResult ToResult(string mode, string wait, int frameBytes, string report)
        {
            using JsonDocument document = JsonDocument.Parse(report);
            JsonElement root = document.RootElement;
            long frames = root.GetProperty("frames").GetInt64();
            double seconds = root.GetProperty("elapsed_ns").GetInt64() / 1e9;
            double framesPerSec = seconds > 0 ? frames / seconds : 0;
            bool latency = root.TryGetProperty("p50_ns", out JsonElement p50);
            return new BenchResult
            {
                Transport = Transport,
                Mode = mode,
                Wait = wait,
                FrameBytes = frameBytes,
                FramesPerSec = framesPerSec,
                BytesPerSec = framesPerSec * frameBytes,
                P50Ns = latency ? p50.GetDouble() : null,
                P99Ns = latency ? root.GetProperty("p99_ns").GetDouble() : null,
                P999Ns = latency ? root.GetProperty("p999_ns").GetDouble() : null,
                MaxNs = latency ? root.GetProperty("max_ns").GetDouble() : null,
            };
        }
    }
}
