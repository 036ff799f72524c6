using System.Globalization;
using System.Text.Json;
using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>
/// The bench part <c>python</c>: ZeroLane's Python client as the receiving side of the ring, against the C# reader of the
/// same run.
/// </summary>
/// <remarks>
/// Design: each measurement is the ring's pair with the receiving peer swapped for <see cref="PythonPeer"/>: throughput
/// has a C# <see cref="RingPeer"/> writer and a Python reader that reads every frame in place and touches it as the C#
/// reader does; latency has a C# initiator and a Python echo (a Reader on the ping ring, a Writer on the pong ring). Both
/// speak the ring peers' lines and control frames, so the rows mean what the ring's rows mean, and each Python row is
/// measured right after the C# row of the same size and strategy (reused when the ring part already measured it), so
/// the table can hold them side by side. The Python side reports no allocation (it is not .NET): its rows carry the C#
/// writer's or initiator's figure only. The Python peer checks by address that frames are read in place (see
/// python_peer.py); its last check is kept for the notes.
/// </remarks>
internal sealed partial class BenchRunner
{
    /// <summary>The transport of the python part's rows.</summary>
    internal const string PythonTransport = "python";

    /// <summary>Throughput sizes without <c>--sizes</c>: small frames (frames/s), 1 MiB and one 1080p RGB24 frame.</summary>
    internal static readonly int[] PythonThroughputSizes = [64, 1 << 20, BenchSettings.VideoFrameBytes];

    /// <summary>The latency size without <c>--sizes</c>.</summary>
    internal const int PythonLatencyBytes = 64;

    private int _pythonZeroCopyChecks;
    private string? _pythonZeroCopyExample;

    private async Task RunPythonAsync(CancellationToken cancellationToken)
    {
        string scratch = Directory.CreateTempSubdirectory($"zerolane-python-{Environment.ProcessId}-").FullName;
        try
        {
            if (!PythonPeer.TryFind(scratch, out PythonPeer? peer, out string? missing))
            {
                Skipped(missing!);
                return;
            }
            IReadOnlyList<int> throughputSizes = _settings.SizesGiven ? _settings.Sizes : PythonThroughputSizes;
            IReadOnlyList<int> latencySizes = _settings.SizesGiven ? _settings.Sizes : [PythonLatencyBytes];
            foreach (WaitStrategy wait in _settings.Waits)
            {
                foreach (int size in throughputSizes)
                {
                    if (!Measured(BenchResult.ZeroLane, BenchResult.Throughput, wait, size))
                    {
                        Add(await RepeatAsync(() => RingThroughputAsync(wait, size, cancellationToken)).ConfigureAwait(false));
                    }
                    Add(await RepeatAsync(() => PythonThroughputAsync(peer!, wait, size, cancellationToken)).ConfigureAwait(false));
                }
            }
            foreach (WaitStrategy wait in _settings.Waits)
            {
                foreach (int size in latencySizes)
                {
                    if (!Measured(BenchResult.ZeroLane, BenchResult.Latency, wait, size))
                    {
                        Add(await RepeatAsync(() => RingLatencyAsync(wait, size, cancellationToken)).ConfigureAwait(false));
                    }
                    Add(await RepeatAsync(() => PythonLatencyAsync(peer!, wait, size, cancellationToken)).ConfigureAwait(false));
                }
            }
            Tell($"python: {peer!.Description}; throughput: a C# RingWriter copies frames in, a Python Reader reads each in place "
                + "(frame.data, a read-only memoryview), touches it as the C# reader does and releases it; latency: a C# initiator and a "
                + "Python echo answering each frame over a second ring; each python row follows the zerolane row it is compared with. "
                + $"Zero copy verified by address ({_pythonZeroCopyChecks} checks, the first data frame of each phase of each run, any "
                + $"miss fails the run): {_pythonZeroCopyExample}. alloc: the C# side's only (the Python side is not .NET).");
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>The transport of the python-topic part's rows.</summary>
    internal const string PythonTopicTransport = "python-topic";

    /// <summary>
    /// The part <c>python-topic</c>: the Python client's topics as the receiving side of a C# publisher (one subscriber),
    /// at the python part's sizes, and a Python topic echo for latency; each row right after the <c>zerolane-topic</c> row
    /// it is compared with. Python topics have no wait strategy: the rows use the C# side's strategy of the topic part's
    /// throughput rows (<see cref="TopicBench.ThroughputWait"/>), and nothing is pinned.
    /// </summary>
    private async Task RunPythonTopicAsync(CancellationToken cancellationToken)
    {
        string scratch = Directory.CreateTempSubdirectory($"zerolane-python-{Environment.ProcessId}-").FullName;
        try
        {
            if (!PythonPeer.TryFindWithTopics(scratch, out PythonPeer? peer, out string? missing))
            {
                Skipped(missing!);
                return;
            }
            var topics = new TopicBench(_settings, _startTool, Add, note => _table?.AddNote(note), BusySpinCpus);
            WaitStrategy wait = TopicBench.ThroughputWait(_settings);
            int checksBefore = _pythonZeroCopyChecks;
            foreach (int size in _settings.SizesGiven ? _settings.Sizes : PythonThroughputSizes)
            {
                if (!_results.Any(r => r.Transport == BenchResult.ZeroLaneTopic && r.Mode == BenchResult.Throughput && r.Wait == BenchWait.NameOf(wait)
                    && r.FrameBytes == size && r.Subscribers == 1 && r.Writer is null))
                {
                    Add((await topics.ThroughputAsync(wait, size, 1, null, cancellationToken).ConfigureAwait(false)).Result);
                }
                Add(await RepeatAsync(() => PythonTopicAsync(peer!, BenchResult.Throughput, wait, size, cancellationToken)).ConfigureAwait(false));
            }
            foreach (int size in _settings.SizesGiven ? _settings.Sizes : [PythonLatencyBytes])
            {
                if (!_results.Any(r => r.Transport == BenchResult.ZeroLaneTopic && r.Mode == BenchResult.Latency && r.Wait == BenchWait.NameOf(wait) && r.FrameBytes == size))
                {
                    Add(await topics.LatencyAsync(wait, size, cancellationToken).ConfigureAwait(false));
                }
                Add(await RepeatAsync(() => PythonTopicAsync(peer!, BenchResult.Latency, wait, size, cancellationToken)).ConfigureAwait(false));
            }
            Tell($"python-topic: {peer!.Description}; throughput: a C# Publisher copies samples in, one Python Subscriber (blocking the "
                + "publisher rather than losing samples) reads each in place, touches it as the C# subscriber does and releases it; latency: a C# "
                + $"initiator and a Python echo (a Subscriber on the ping topic, a Publisher on the pong topic). Python topics have no wait strategy: "
                + $"the wait column is the C# side's ({BenchWait.NameOf(wait)}), nothing pinned; the zerolane-topic rows it follows are measured once. "
                + $"Zero copy verified by address ({_pythonZeroCopyChecks - checksBefore} checks): {_pythonZeroCopyExample}. alloc: the C# side's only.");
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private async Task<BenchResult> PythonTopicAsync(PythonPeer peer, string mode, WaitStrategy wait, int frameBytes, CancellationToken cancellationToken)
    {
        bool latency = mode == BenchResult.Latency;
        string topic = $"zlbench-{Environment.ProcessId}-pytopic-{++_counter}" + (latency ? "-ping" : "");
        string? reply = latency ? topic[..^"ping".Length] + "pong" : null;
        try
        {
            PeerOptions server = PeerFor(latency ? PeerOptions.EchoRole : PeerOptions.SubscriberRole, topic, reply, frameBytes, wait);
            PeerOptions client = server with { Role = latency ? PeerOptions.InitiatorRole : PeerOptions.PublisherRole, Subscribers = latency ? 0 : 1 };
            (PeerReport python, PeerReport csharp) = await RunPythonPairAsync(
                peer, PythonPeer.TopicCommandName, server, TopicPeer.CommandName, client, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(PythonTopicTransport, mode, BenchWait.NameOf(wait), frameBytes,
                measured: latency ? csharp : python, sender: csharp, receiver: python) with
            {
                Subscribers = 1,
                AllocatedBytesPerFrame = null,
                ReceiverAllocatedBytesPerFrame = null,
            };
        }
        finally
        {
            TopicBench.RemoveTopic(topic);
            if (reply is not null)
            {
                TopicBench.RemoveTopic(reply);
            }
        }
    }

    private bool Measured(string transport, string mode, WaitStrategy wait, int size) =>
        _results.Any(r => r.Transport == transport && r.Mode == mode && r.Wait == BenchWait.NameOf(wait) && r.FrameBytes == size);

    /// <summary>A note that belongs with the rows: in the table's notes, or on stderr beside JSON lines.</summary>
    private void Tell(string note) => Skipped(note);

    private async Task<BenchResult> PythonThroughputAsync(PythonPeer peer, WaitStrategy wait, int frameBytes, CancellationToken cancellationToken)
    {
        string name = NewBufferName() + "-py";
        try
        {
            PeerOptions reader = PeerFor(PeerOptions.ReaderRole, name, null, frameBytes, wait);
            PeerOptions writer = reader with { Role = PeerOptions.WriterRole };
            (reader, writer, string? cpus) = Place(reader, writer);
            double? crossCore = CrossCoreNs(cpus);
            (PeerReport readerReport, PeerReport writerReport) = await RunPythonPairAsync(
                peer, PythonPeer.CommandName, reader, RingPeer.CommandName, writer, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(PythonTransport, BenchResult.Throughput, BenchWait.NameOf(wait), frameBytes,
                measured: readerReport, sender: writerReport, receiver: readerReport) with
            {
                Cpus = cpus,
                CrossCoreNs = crossCore,
                AllocatedBytesPerFrame = null,
                ReceiverAllocatedBytesPerFrame = null,
            };
        }
        finally
        {
            RemoveBuffer(name);
        }
    }

    private async Task<BenchResult> PythonLatencyAsync(PythonPeer peer, WaitStrategy wait, int frameBytes, CancellationToken cancellationToken)
    {
        string ping = NewBufferName() + "-py-ping";
        string pong = ping[..^"ping".Length] + "pong";
        try
        {
            PeerOptions echo = PeerFor(PeerOptions.EchoRole, ping, pong, frameBytes, wait);
            PeerOptions initiator = echo with { Role = PeerOptions.InitiatorRole };
            (echo, initiator, string? cpus) = Place(echo, initiator);
            double? crossCore = CrossCoreNs(cpus);
            (PeerReport echoReport, PeerReport initiatorReport) = await RunPythonPairAsync(
                peer, PythonPeer.CommandName, echo, RingPeer.CommandName, initiator, cancellationToken).ConfigureAwait(false);
            return BenchResult.FromPeers(PythonTransport, BenchResult.Latency, BenchWait.NameOf(wait), frameBytes,
                measured: initiatorReport, sender: initiatorReport, receiver: echoReport) with
            {
                Cpus = cpus,
                CrossCoreNs = crossCore,
                AllocatedBytesPerFrame = null,
                ReceiverAllocatedBytesPerFrame = null,
            };
        }
        finally
        {
            RemoveBuffer(ping);
            RemoveBuffer(pong);
        }
    }

    /// <summary>
    /// Starts the Python server peer (reader or echo, which creates the buffer), waits until it is ready, starts the C# ring
    /// peer (writer or initiator), and returns both reports. If either peer fails, the other is killed at once.
    /// </summary>
    private async Task<(PeerReport Python, PeerReport CSharp)> RunPythonPairAsync(
        PythonPeer peer, string pythonCommand, PeerOptions server, string csharpCommand, PeerOptions client, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(_settings.WarmupSeconds + _settings.Seconds + 60);
        string what = $"{server.FrameBytes} B {BenchWait.NameOf(server.Wait)}";
        using PeerProcess serverProcess = PeerProcess.Start(peer.StartInfo, server.ToArguments(pythonCommand), $"{pythonCommand} {what} {server.Role}");
        await serverProcess.WaitReadyAsync(s_readyTimeout, cancellationToken).ConfigureAwait(false);
        using PeerProcess clientProcess = PeerProcess.Start(_startTool, client.ToArguments(csharpCommand), $"{csharpCommand} {what} {client.Role}");
        Task<string> serverReport = serverProcess.WaitReportLineAsync(timeout, cancellationToken);
        Task<PeerReport> clientReport = clientProcess.WaitReportAsync(timeout, cancellationToken);
        Task first = await Task.WhenAny(serverReport, clientReport).ConfigureAwait(false);
        await first.ConfigureAwait(false);
        string line = await serverReport.ConfigureAwait(false);
        NoteZeroCopy(line);
        return (PeerReport.Parse(line), await clientReport.ConfigureAwait(false));
    }

    /// <summary>Keeps the Python peer's zero-copy checks (count, and the last one as an example) for the part's note.</summary>
    private void NoteZeroCopy(string report)
    {
        using JsonDocument document = JsonDocument.Parse(report);
        if (!document.RootElement.TryGetProperty("zero_copy", out JsonElement check) || check.GetProperty("checks").GetInt32() == 0)
        {
            throw new InvalidOperationException("The python peer reported no zero-copy check: " + report);
        }
        _pythonZeroCopyChecks += check.GetProperty("checks").GetInt32();
        _pythonZeroCopyExample = string.Create(CultureInfo.InvariantCulture,
            $"a memoryview at 0x{check.GetProperty("view").GetUInt64():x} inside the Python process's mapping of {check.GetProperty("path").GetString()} "
            + $"at 0x{check.GetProperty("start").GetUInt64():x}-0x{check.GetProperty("end").GetUInt64():x}");
    }
}
