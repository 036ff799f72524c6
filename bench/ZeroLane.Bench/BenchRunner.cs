using System.Diagnostics;
using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>
/// Runs one <c>zerolane bench</c>: the machine's limits in this process, then every transfer between two
/// freshly started peer processes (one pair per run, so no run inherits another's state). Each measurement runs
/// <see cref="BenchSettings.Repeat"/> times and makes one row of their median and spread; a JSON line is printed as soon as
/// the row is complete, a table row at the end (with a progress line on stderr meanwhile).
/// </summary>
internal sealed partial class BenchRunner
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    private readonly BenchSettings _settings;
    private readonly Func<IEnumerable<string>, ProcessStartInfo> _startTool;
    private readonly TextWriter _output;
    private readonly TextWriter _errors;
    private readonly BenchTable? _table;
    private readonly List<BenchResult> _results = new();
    private string? _socketDirectory;
    private int _counter;

    internal BenchRunner(BenchSettings settings, Func<IEnumerable<string>, ProcessStartInfo> startTool, TextWriter output, TextWriter errors)
    {
        _settings = settings;
        _startTool = startTool;
        _output = output;
        _errors = errors;
        _table = settings.Json ? null : new BenchTable(output);
    }

    internal async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            _table?.WriteHeader(_settings, MachineDescription(), MeasureClockReadNs());
            if (_settings.Includes(BenchSettings.MemoryCopy))
            {
                Add(Repeat(() => MemoryCopyBench.Run(_settings.WarmupSeconds, _settings.Seconds)));
            }
            if (_settings.Includes(BenchSettings.CacheLine))
            {
                (int, int)? pinned = null;
                Add(Repeat(() => CacheLineBench.Run(_settings.WarmupSeconds, _settings.Seconds, _settings.MaxSamples, out pinned)));
                _table?.AddNote(pinned is (int a, int b)
                    ? $"cache line: the two threads were pinned to CPUs {a} and {b}."
                    : "cache line: the two threads could not be pinned to different CPUs; the OS placed them.");
            }
            if (_settings.Includes(BenchSettings.Ring) || _settings.Includes(BenchSettings.Topics) || _settings.Includes(BenchSettings.Duplex))
            {
                NoteBusySpinPlacement();
            }
            if (_settings.Includes(BenchSettings.Ring))
            {
                foreach (WaitStrategy wait in _settings.Waits)
                {
                    foreach (int size in _settings.Sizes)
                    {
                        Add(await RepeatAsync(() => RingThroughputAsync(wait, size, cancellationToken)).ConfigureAwait(false));
                    }
                }
                foreach (WaitStrategy wait in _settings.Waits)
                {
                    foreach (int size in _settings.Sizes)
                    {
                        Add(await RepeatAsync(() => RingLatencyAsync(wait, size, cancellationToken)).ConfigureAwait(false));
                    }
                }
            }
            if (_settings.Includes(BenchSettings.Topics))
            {
                // The topic's latency is judged against the ring's of the same run and size: measure the ring's where the
                // ring part did not (not selected, or not at that size).
                foreach (WaitStrategy wait in _settings.Waits)
                {
                    foreach (int size in TopicBench.LatencySizes(_settings))
                    {
                        if (!_results.Any(r => r.Transport == BenchResult.ZeroLane && r.Mode == BenchResult.Latency
                            && r.Wait == BenchWait.NameOf(wait) && r.FrameBytes == size))
                        {
                            Add(await RepeatAsync(() => RingLatencyAsync(wait, size, cancellationToken)).ConfigureAwait(false));
                        }
                    }
                }
                await new TopicBench(_settings, _startTool, Add, note => _table?.AddNote(note), BusySpinCpus).RunAsync(cancellationToken).ConfigureAwait(false);
            }
            if (_settings.Includes(BenchSettings.Iceoryx))
            {
                // Right after the ring, so the two are measured as close together as the run allows.
                await IceoryxBench.RunAsync(_settings, Add, note => _table?.AddNote(note), Skipped, cancellationToken).ConfigureAwait(false);
            }
            if (_settings.Includes(BenchSettings.Python))
            {
                await RunPythonAsync(cancellationToken).ConfigureAwait(false);
            }
            if (_settings.Includes(BenchSettings.PythonTopic))
            {
                await RunPythonTopicAsync(cancellationToken).ConfigureAwait(false);
            }
            if (_settings.Includes(BenchSettings.Duplex))
            {
                await RunDuplexAsync(cancellationToken).ConfigureAwait(false);
            }
            if (_settings.Includes(BenchSettings.Gateway))
            {
                await new GatewayBench(_settings, Add, note => _table?.AddNote(note), Skipped).RunAsync(_results, cancellationToken).ConfigureAwait(false);
            }
            if (_settings.Includes(BenchSettings.Messages))
            {
                // A message of 8 parts (each from its own array) through one ring frame per message, default strategy.
                int[] sizes = _settings.Sizes.Where(size => size >= MessagePartsMinimumFrame).ToArray();
                if (sizes.Length == 0)
                {
                    // Only when the part came with the default parts: a part named in --only was refused before the run.
                    Skipped($"messages: skipped: a message of {MessageParts} parts needs frames of at least {BenchTable.FormatSize(MessagePartsMinimumFrame)}, and --sizes gave none.");
                }
                foreach (int size in sizes)
                {
                    Add(await RepeatAsync(() => RingThroughputAsync(WaitStrategy.SpinThenBlock, size, cancellationToken, parts: MessageParts)).ConfigureAwait(false));
                }
            }
            if (_settings.Includes(BenchSettings.Socket))
            {
                foreach (int size in _settings.Sizes)
                {
                    Add(await RepeatAsync(() => SocketAsync(PeerOptions.ReaderRole, PeerOptions.WriterRole, size, cancellationToken)).ConfigureAwait(false));
                }
                foreach (int size in _settings.Sizes)
                {
                    Add(await RepeatAsync(() => SocketAsync(PeerOptions.EchoRole, PeerOptions.InitiatorRole, size, cancellationToken)).ConfigureAwait(false));
                }
            }
            if (_settings.Includes(BenchSettings.MessageSockets))
            {
                var bench = new MessageSocketBench(_settings.WarmupSeconds, _settings.Seconds);
                foreach (MessageSocketBench.Measurement measurement in MessageSocketBench.Measurements(_settings.SizesFor(BenchSettings.MessageSockets).Sizes))
                {
                    Add(await RepeatAsync(() => bench.MeasureAsync(measurement, cancellationToken)).ConfigureAwait(false));
                }
            }
            if (_settings.Includes(BenchSettings.Arrays))
            {
                (IReadOnlyList<int>? sizes, string needs) = _settings.SizesFor(BenchSettings.Arrays);
                if (sizes is { Count: 0 })
                {
                    Skipped($"arrays: skipped: the part needs {needs}, and --sizes gave none.");
                }
                else
                {
                    foreach (Func<BenchResult> measurement in ArrayBench.Measurements(sizes, _settings.WarmupSeconds, _settings.Seconds))
                    {
                        Add(Repeat(measurement));
                    }
                }
            }
            _table?.WriteSummary(_results, _settings);
        }
        finally
        {
            if (_socketDirectory is not null)
            {
                try
                {
                    Directory.Delete(_socketDirectory, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>Why a part measured nothing: with the table's notes, or on stderr beside JSON lines (stdout stays JSON only).</summary>
    private void Skipped(string note)
    {
        if (_table is null)
        {
            _errors.WriteLine(note);
        }
        else
        {
            _table.AddNote(note);
        }
    }

    private void Add(BenchResult result)
    {
        _results.Add(result);
        if (_table is null)
        {
            _output.WriteLine(result.ToJson());
            _output.Flush();
        }
        else
        {
            // The table is written at the end, its columns as wide as their content; meanwhile a line per row shows progress.
            _table.AddRow(result);
            _errors.WriteLine("measured: " + BenchTable.Describe(result));
            _errors.Flush();
        }
    }

    /// <summary>Runs a measurement <see cref="BenchSettings.Repeat"/> times, one after the other: one row, their median and spread.</summary>
    private async Task<BenchResult> RepeatAsync(Func<Task<BenchResult>> measure)
    {
        var runs = new List<BenchResult>(_settings.Repeat);
        for (int run = 0; run < _settings.Repeat; run++)
        {
            runs.Add(await measure().ConfigureAwait(false));
        }
        return BenchResult.Combine(runs);
    }

    private BenchResult Repeat(Func<BenchResult> measure)
    {
        var runs = new List<BenchResult>(_settings.Repeat);
        for (int run = 0; run < _settings.Repeat; run++)
        {
            runs.Add(measure());
        }
        return BenchResult.Combine(runs);
    }

    /// <summary>
    /// Where busy-spinning peers run: each pinned to a core of its own, so they never take turns on one CPU (a spinner that
    /// shares its CPU with its partner burns its time slice waiting for a partner that cannot run). Null with one CPU.
    /// </summary>
    private (int, int)? BusySpinCpus { get; } = ThreadAffinity.TwoCores();

    private void NoteBusySpinPlacement()
    {
        if (!_settings.Waits.Contains(WaitStrategy.BusySpin))
        {
            return;
        }
        _table?.AddNote(BusySpinCpus is (int first, int second)
            ? $"busy-spin: the two peers' measuring threads are pinned to CPUs {first} and {second}, different cores (column cpus); other strategies and the socket are placed by the OS. " +
                "x-core ns: one-way p50 of a cache line bounced between those CPUs just before each run, the floor of every handoff; on a virtual machine it moves " +
                "between levels the host sets, and busy-spin figures move with it: compare rows at the same level."
            : "busy-spin: this process may use only one CPU, so the two spinning peers share it and take turns by time slice: busy-spin figures measure the scheduler, not the ring; give the bench two CPUs.");
    }

    /// <summary>Parts of the messages the "messages" part sends, and the smallest frame that carries them.</summary>
    internal const int MessageParts = 8;
    internal const int MessagePartsMinimumFrame = 1024;

    private async Task<BenchResult> RingThroughputAsync(WaitStrategy wait, int frameBytes, CancellationToken cancellationToken, int parts = 0)
    {
        string name = NewBufferName();
        try
        {
            PeerOptions reader = PeerFor(PeerOptions.ReaderRole, name, null, frameBytes, wait) with { Parts = parts };
            PeerOptions writer = reader with { Role = PeerOptions.WriterRole };
            (reader, writer, string? cpus) = Place(reader, writer);
            double? crossCore = CrossCoreNs(cpus);
            (PeerReport readerReport, PeerReport writerReport) = await RunPairAsync(RingPeer.CommandName, reader, writer, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(parts > 0 ? BenchResult.ZeroLaneMessage : BenchResult.ZeroLane, BenchResult.Throughput, BenchWait.NameOf(wait), frameBytes,
                measured: readerReport, sender: writerReport, receiver: readerReport) with { Cpus = cpus, CrossCoreNs = crossCore };
        }
        finally
        {
            RemoveBuffer(name);
        }
    }

    private async Task<BenchResult> RingLatencyAsync(WaitStrategy wait, int frameBytes, CancellationToken cancellationToken)
    {
        string ping = NewBufferName() + "-ping";
        string pong = ping[..^"ping".Length] + "pong";
        try
        {
            PeerOptions echo = PeerFor(PeerOptions.EchoRole, ping, pong, frameBytes, wait);
            PeerOptions initiator = echo with { Role = PeerOptions.InitiatorRole };
            (echo, initiator, string? cpus) = Place(echo, initiator);
            double? crossCore = CrossCoreNs(cpus);
            (PeerReport echoReport, PeerReport initiatorReport) = await RunPairAsync(RingPeer.CommandName, echo, initiator, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(BenchResult.ZeroLane, BenchResult.Latency, BenchWait.NameOf(wait), frameBytes,
                measured: initiatorReport, sender: initiatorReport, receiver: echoReport) with { Cpus = cpus, CrossCoreNs = crossCore };
        }
        finally
        {
            RemoveBuffer(ping);
            RemoveBuffer(pong);
        }
    }

    private async Task<BenchResult> SocketAsync(string serverRole, string clientRole, int frameBytes, CancellationToken cancellationToken)
    {
        _socketDirectory ??= Directory.CreateTempSubdirectory($"zerolane-bench-{Environment.ProcessId}-").FullName;
        string path = Path.Combine(_socketDirectory, $"{++_counter}.sock");
        try
        {
            PeerOptions server = PeerFor(serverRole, path, null, frameBytes, WaitStrategy.SpinThenBlock);
            PeerOptions client = server with { Role = clientRole };
            (PeerReport serverReport, PeerReport clientReport) = await RunPairAsync(SocketPeer.CommandName, server, client, cancellationToken).ConfigureAwait(false);
            return serverRole == PeerOptions.ReaderRole
                ? BenchResult.FromPeers(BenchResult.UnixSocket, BenchResult.Throughput, null, frameBytes,
                    measured: serverReport, sender: clientReport, receiver: serverReport)
                : BenchResult.FromPeers(BenchResult.UnixSocket, BenchResult.Latency, null, frameBytes,
                    measured: clientReport, sender: clientReport, receiver: serverReport);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Right before a pinned (busy-spin) run: the one-way p50 of a cache line bounced between the two CPUs for 0.1 s, the
    /// floor of every handoff in that run. Null for a pair the OS places.
    /// </summary>
    private static double? CrossCoreNs(string? cpus) =>
        cpus is null ? null : CacheLineBench.Run(warmupSeconds: 0.02, seconds: 0.1, maxSamples: 100_000, out _).P50Ns;

    /// <summary>Busy-spinning pairs on two cores of their own (see <see cref="BusySpinCpus"/>); others as the OS places them.</summary>
    private (PeerOptions Server, PeerOptions Client, string? Cpus) Place(PeerOptions server, PeerOptions client) =>
        server.Wait == WaitStrategy.BusySpin && BusySpinCpus is (int first, int second)
            ? (server with { Cpu = first }, client with { Cpu = second }, $"{first},{second}")
            : (server, client, null);

    private PeerOptions PeerFor(string role, string name, string? replyName, int frameBytes, WaitStrategy wait) => new(
        role, name, replyName, frameBytes, BenchSettings.PayloadBytesFor(frameBytes), wait,
        _settings.WarmupSeconds, _settings.Seconds, _settings.MaxSamples);

    /// <summary>
    /// Starts the server peer (which creates the buffer or listens), waits until it is ready, starts the
    /// client, and returns both reports. If either peer fails, the other is killed at once.
    /// </summary>
    private async Task<(PeerReport Server, PeerReport Client)> RunPairAsync(
        string command, PeerOptions server, PeerOptions client, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(_settings.WarmupSeconds + _settings.Seconds + 60);
        string what = $"{command} {server.FrameBytes} B {BenchWait.NameOf(server.Wait)}";
        using PeerProcess serverProcess = PeerProcess.Start(_startTool, server.ToArguments(command), $"{what} {server.Role}");
        await serverProcess.WaitReadyAsync(s_readyTimeout, cancellationToken).ConfigureAwait(false);
        using PeerProcess clientProcess = PeerProcess.Start(_startTool, client.ToArguments(command), $"{what} {client.Role}");
        Task<PeerReport> serverReport = serverProcess.WaitReportAsync(timeout, cancellationToken);
        Task<PeerReport> clientReport = clientProcess.WaitReportAsync(timeout, cancellationToken);
        Task first = await Task.WhenAny(serverReport, clientReport).ConfigureAwait(false);
        await first.ConfigureAwait(false);
        return (await serverReport.ConfigureAwait(false), await clientReport.ConfigureAwait(false));
    }

    private string NewBufferName() => $"zlbench-{Environment.ProcessId}-{++_counter}";

    // The reader peer removes its buffer when it exits; this only matters when a peer was killed.
    private static void RemoveBuffer(string name)
    {
        try
        {
            BufferInspector.Clean(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ZeroLaneException)
        {
        }
    }

    private static string MachineDescription()
    {
        string model = "unknown CPU";
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                model = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        string lastLevelCache = "";
        try
        {
            lastLevelCache = ", last-level cache " + File.ReadAllText("/sys/devices/system/cpu/cpu0/cache/index3/size").Trim();
        }
        catch (IOException)
        {
        }
        return $"{model}, {Environment.ProcessorCount} CPUs{lastLevelCache}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}";
    }

    /// <summary>What one clock read costs (the best of several batches, so a preemption does not count); every latency sample includes one.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double MeasureClockReadNs()
    {
        const int Reads = 100_000;
        double best = double.MaxValue;
        long sink = 0;
        for (int batch = 0; batch < 10; batch++)
        {
            long started = Stopwatch.GetTimestamp();
            for (int i = 0; i < Reads; i++)
            {
                sink += Stopwatch.GetTimestamp();
            }
            best = Math.Min(best, (Stopwatch.GetTimestamp() - started) * (1e9 / Stopwatch.Frequency) / Reads);
        }
        GC.KeepAlive(sink);
        return best;
    }
}
