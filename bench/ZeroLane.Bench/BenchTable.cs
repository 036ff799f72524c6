using System.Globalization;

namespace ZeroLane.Bench;

/// <summary>
/// The human-readable output: an aligned table written row by row as results arrive, then the ratios that
/// matter (ring against memcpy, the socket and the cache line) and notes on what was measured.
/// </summary>
internal sealed class BenchTable
{
    private const string RowFormat = "{0,-14} {1,-10} {2,-15} {3,4} {4,-8} {5,11} {6,13} {7,8} {8,10} {9,10} {10,10} {11,12}  {12}";
    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    private const string AboveMemcpyNote =
        "memcpy is measured on 256 MiB, beyond the last-level cache; a ring whose payload block (4 frames + 64 KiB) fits in that cache can beat it, because its bytes never go to DRAM.";

    private readonly TextWriter _output;
    private readonly List<string> _notes = new();

    internal BenchTable(TextWriter output) => _output = output;

    internal void AddNote(string note) => _notes.Add(note);

    internal void WriteHeader(BenchSettings settings, string machine, double clockReadNs)
    {
        _output.WriteLine($"zerolane bench: {machine}; load average {LoadAverage()}");
        _output.WriteLine(string.Create(s_culture,
            $"{settings.Seconds:0.###} s per measurement after {settings.WarmupSeconds:0.###} s warm-up; frame sizes {string.Join(", ", settings.Sizes.Select(s => FormatSize(s)))}"));
        _output.WriteLine();
        _output.WriteLine(string.Format(s_culture, RowFormat,
            "transport", "mode", "wait", "subs", "writer", "frame", "frames/s", "GB/s", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "alloc B/frame (tx/rx)"));
        _output.WriteLine(new string('-', 166));
        AddNote(string.Create(s_culture,
            $"latency: one way = half of each timed round trip; each round trip includes one clock read ({clockReadNs:0.#} ns). In latency rows frames/s counts round trips."));
    }

    internal void WriteRow(BenchResult result)
    {
        string alloc = result.SenderAllocatedBytesPerFrame is double tx && result.ReceiverAllocatedBytesPerFrame is double rx
            ? string.Create(s_culture, $"{tx:0.##} / {rx:0.##}")
            : "-";
        _output.WriteLine(string.Format(s_culture, RowFormat,
            result.Transport,
            result.Mode,
            result.Wait ?? "-",
            result.Subscribers is int subscribers ? subscribers.ToString(s_culture) : "-",
            result.Writer ?? "-",
            FormatSize(result.FrameBytes),
            Format(result.FramesPerSec, "N0"),
            Format(result.BytesPerSec / 1e9, "0.000"),
            Format(result.P50Ns, "N0"),
            Format(result.P99Ns, "N0"),
            Format(result.P999Ns, "N0"),
            Format(result.MaxNs, "N0"),
            alloc));
    }

    internal void WriteSummary(IReadOnlyList<BenchResult> results, BenchSettings settings)
    {
        var lines = new List<string>();
        BenchResult? memcpy = results.FirstOrDefault(r => r.Transport == BenchResult.MemoryCopy);
        BenchResult? cacheLine = results.FirstOrDefault(r => r.Transport == BenchResult.CacheLine);
        BenchResult? Find(string transport, string mode, string? wait, int size) =>
            results.FirstOrDefault(r => r.Transport == transport && r.Mode == mode && r.Wait == wait && r.FrameBytes == size);

        // Ring throughput on large frames against the machine's copy bandwidth and the socket.
        int[] large = settings.Sizes.Where(s => s >= 1 << 20).ToArray();
        if (large.Length == 0)
        {
            large = [settings.Sizes.Max()];
        }
        foreach (int size in large)
        {
            BenchResult? socket = Find(BenchResult.UnixSocket, BenchResult.Throughput, null, size);
            foreach (string wait in BenchWait.All.Select(BenchWait.NameOf))
            {
                if (Find(BenchResult.ZeroLane, BenchResult.Throughput, wait, size) is not { BytesPerSec: double ring })
                {
                    continue;
                }
                var parts = new List<string>();
                if (memcpy?.BytesPerSec is double copy)
                {
                    parts.Add(string.Create(s_culture, $"{100 * ring / copy:0}% of memcpy"));
                    if (ring > copy && !_notes.Contains(AboveMemcpyNote))
                    {
                        AddNote(AboveMemcpyNote);
                    }
                }
                if (socket?.BytesPerSec is double unix && unix > 0)
                {
                    parts.Add(string.Create(s_culture, $"{ring / unix:0.0}x unix-socket"));
                }
                string figure = string.Create(s_culture, $"ring throughput {FormatSize(size)}, {wait}: {ring / 1e9:0.00} GB/s");
                lines.Add(parts.Count > 0 ? figure + " = " + string.Join(", ", parts) : figure);
            }
            if (Find(BenchResult.ZeroLaneMessage, BenchResult.Throughput, "spin-then-block", size) is { BytesPerSec: double message })
            {
                string figure = string.Create(s_culture, $"ring message of {BenchRunner.MessageParts} parts {FormatSize(size)}, spin-then-block: {message / 1e9:0.00} GB/s");
                lines.Add(memcpy?.BytesPerSec is double copyRate
                    ? figure + string.Create(s_culture, $" = {100 * message / copyRate:0}% of memcpy")
                    : figure);
            }
        }

        foreach (string kind in new[] { "tcp", "unix" })
        {
            BenchResult? parts = results.FirstOrDefault(r => r.Transport == $"message-{kind}-8-parts");
            BenchResult? whole = results.FirstOrDefault(r => r.Transport == $"message-{kind}-contiguous");
            if (parts?.BytesPerSec is double split && whole?.BytesPerSec is double joined && joined > 0)
            {
                lines.Add(string.Create(s_culture,
                    $"message of 8 parts, 64 MiB, {kind}: {split / 1e9:0.00} GB/s = {100 * split / joined:0}% of the same bytes as one part ({joined / 1e9:0.00} GB/s)"));
            }
            BenchResult? single = results.FirstOrDefault(r => r.Transport == $"message-{kind}-64b");
            BenchResult? batched = results.FirstOrDefault(r => r.Transport == $"message-{kind}-64b-batched");
            if (single?.FramesPerSec is double one && batched?.FramesPerSec is double many)
            {
                lines.Add(string.Create(s_culture, $"64 B messages, {kind}: {one:N0}/s one per send, {many:N0}/s in batches of {MessageSocketBench.Batch}"));
            }
        }

        BenchResult? openSmall = results.FirstOrDefault(r => r.Transport == ArrayBench.Transport && r.Mode == ArrayBench.Open && r.FrameBytes == 16L << 20);
        BenchResult? openLarge = results.FirstOrDefault(r => r.Transport == ArrayBench.Transport && r.Mode == ArrayBench.Open && r.FrameBytes == 4L << 30);
        if (openSmall?.P50Ns is double small16 && openLarge?.P50Ns is double large4)
        {
            lines.Add(string.Create(s_culture, $"array open p50: 16 MiB {small16 / 1000:0.0} us, 4 GiB {large4 / 1000:0.0} us"));
        }
        if (results.FirstOrDefault(r => r.Transport == ArrayBench.Transport && r.Mode == ArrayBench.Read)?.BytesPerSec is double read)
        {
            lines.Add(string.Create(s_culture, $"array sequential read through spans: {read / 1e9:0.00} GB/s") +
                (memcpy?.BytesPerSec is double copyBandwidth ? string.Create(s_culture, $" = {100 * read / copyBandwidth:0}% of memcpy") : ""));
        }
        if (results.FirstOrDefault(r => r.Transport == ArrayBench.Transport && r.Mode == ArrayBench.Get) is { FramesPerSec: double getRuns, FrameBytes: long bytes } &&
            results.FirstOrDefault(r => r.Transport == ArrayBench.Transport && r.Mode == ArrayBench.SpanIndex)?.FramesPerSec is double spanRuns)
        {
            long elements = bytes / sizeof(float);
            lines.Add(string.Create(s_culture,
                $"array element access: GetAt {1e9 / (getRuns * elements):0.00} ns/element, span index {1e9 / (spanRuns * elements):0.00} ns/element"));
        }
        if (results.FirstOrDefault(r => r.Transport == ArrayBench.Transport && r.Mode == ArrayBench.Save)?.BytesPerSec is double save &&
            results.FirstOrDefault(r => r.Transport == ArrayBench.FileTransport && r.Mode == ArrayBench.Save)?.BytesPerSec is double writeAll)
        {
            lines.Add(string.Create(s_culture, $"array save: {save / 1e9:0.00} GB/s = {100 * save / writeAll:0}% of File.WriteAllBytes ({writeAll / 1e9:0.00} GB/s)"));
        }

        int small = settings.Sizes.Contains(64) ? 64 : settings.Sizes.Min();
        var rates = new List<string>();
        foreach (string wait in new[] { "busy-spin", "spin-then-block" })
        {
            if (Find(BenchResult.ZeroLane, BenchResult.Throughput, wait, small) is { FramesPerSec: double fps })
            {
                rates.Add(string.Create(s_culture, $"{wait} {fps:N0}"));
            }
        }
        if (Find(BenchResult.UnixSocket, BenchResult.Throughput, null, small) is { FramesPerSec: double socketFps })
        {
            rates.Add(string.Create(s_culture, $"unix-socket {socketFps:N0}"));
        }
        if (rates.Count > 0)
        {
            lines.Add($"{FormatSize(small)} frames/s: " + string.Join(", ", rates));
        }

        if (Find(BenchResult.ZeroLane, BenchResult.Latency, "busy-spin", small) is { P50Ns: double spinP50 } && cacheLine?.P50Ns is double lineP50)
        {
            lines.Add(string.Create(s_culture,
                $"{FormatSize(small)} one-way p50: ring busy-spin {spinP50:N0} ns vs cache-line {lineP50:N0} ns ({spinP50 / lineP50:0.0}x the hardware floor)"));
        }

        foreach (int size in settings.Sizes)
        {
            if (Find(BenchResult.ZeroLane, BenchResult.Latency, "spin-then-block", size) is { P50Ns: double ringP50 }
                && Find(BenchResult.UnixSocket, BenchResult.Latency, null, size) is { P50Ns: double socketP50 })
            {
                string comparison = ringP50 <= socketP50
                    ? string.Create(s_culture, $"ring {socketP50 / ringP50:0.0}x lower")
                    : string.Create(s_culture, $"ring {ringP50 / socketP50:0.0}x HIGHER");
                lines.Add(string.Create(s_culture,
                    $"{FormatSize(size)} one-way p50: ring spin-then-block {ringP50:N0} ns vs unix-socket {socketP50:N0} ns ({comparison})"));
            }
        }

        // The ring against iceoryx, a real peer, per frame size and for the two wait strategies both have.
        foreach (int size in settings.Sizes)
        {
            foreach (string wait in new[] { "busy-spin", "blocking" })
            {
                var parts = new List<string>();
                if (Find(BenchResult.ZeroLane, BenchResult.Latency, wait, size) is { P50Ns: double ringP50 }
                    && Find(IceoryxBench.Transport, BenchResult.Latency, wait, size) is { P50Ns: double iceoryxP50 } && ringP50 > 0 && iceoryxP50 > 0)
                {
                    parts.Add(string.Create(s_culture, $"one-way p50 {ringP50:N0} vs {iceoryxP50:N0} ns ({Factor(ringP50, iceoryxP50, "lower", "HIGHER")})"));
                }
                if (Find(BenchResult.ZeroLane, BenchResult.Throughput, wait, size) is { FramesPerSec: double ringRate }
                    && Find(IceoryxBench.Transport, BenchResult.Throughput, wait, size) is { FramesPerSec: double iceoryxRate } && iceoryxRate > 0 && ringRate > 0)
                {
                    parts.Add(string.Create(s_culture, $"throughput {ringRate:N0} vs {iceoryxRate:N0} frames/s ({Factor(iceoryxRate, ringRate, "higher", "LOWER")})"));
                }
                if (parts.Count > 0)
                {
                    lines.Add($"{FormatSize(size)} {wait}, ring vs iceoryx: " + string.Join("; ", parts));
                }
            }
        }

        lines.AddRange(TopicSummary(results));

        _output.WriteLine();
        foreach (string line in lines)
        {
            _output.WriteLine(line);
        }
        if (settings.Includes(BenchSettings.Ring) || settings.Includes(BenchSettings.Socket))
        {
            AddNote("touch: receivers read one 8-byte word per 4 KiB page of each frame plus its last 8 bytes; the ring reader does so in place (no copy), the socket receiver after recv() copied the whole frame into its reused buffer.");
            AddNote("alloc: steady-state bytes allocated per frame by each peer's measuring thread, writer/reader (throughput) or initiator/echo (latency): the lower of the two halves of the window, so a one-time allocation does not count.");
        }
        AddNote($"load average at the end: {LoadAverage()} (other processes on the machine disturb busy-spin figures most).");
        _output.WriteLine();
        foreach (string note in _notes)
        {
            _output.WriteLine("note: " + note);
        }
    }

    /// <summary>
    /// The topic part against its targets: 64 B p50 at most 1.5x the ring's (same run, same strategy) and below iceoryx's
    /// (when it ran), 8 MiB WriteModified at least 100x WriteFull, 4 subscribers at least half the 1-subscriber rate per
    /// subscriber at 1 MiB, and 0 B allocated per sample on either side.
    /// </summary>
    private static IEnumerable<string> TopicSummary(IReadOnlyList<BenchResult> results)
    {
        BenchResult[] topic = results.Where(r => r.Transport == BenchResult.ZeroLaneTopic).ToArray();
        if (topic.Length == 0)
        {
            yield break;
        }
        foreach (string wait in BenchWait.All.Select(BenchWait.NameOf))
        {
            if (topic.FirstOrDefault(r => r.Mode == BenchResult.Latency && r.Wait == wait && r.FrameBytes == TopicBench.LatencyBytes) is not { P50Ns: double topicP50 })
            {
                continue;
            }
            var parts = new List<string>();
            if (results.FirstOrDefault(r => r.Transport == BenchResult.ZeroLane && r.Mode == BenchResult.Latency && r.Wait == wait
                && r.FrameBytes == TopicBench.LatencyBytes) is { P50Ns: double ringP50 } && ringP50 > 0)
            {
                parts.Add(string.Create(s_culture,
                    $"ring {ringP50:N0} ns: {topicP50 / ringP50:0.00}x the ring (target <= 1.5x: {Verdict(topicP50 <= 1.5 * ringP50)})"));
            }
            if (results.FirstOrDefault(r => r.Transport == IceoryxBench.Transport && r.Mode == BenchResult.Latency && r.Wait == wait
                && r.FrameBytes == TopicBench.LatencyBytes) is { P50Ns: double iceoryxP50 } && iceoryxP50 > 0)
            {
                parts.Add(string.Create(s_culture,
                    $"iceoryx {iceoryxP50:N0} ns: {topicP50 / iceoryxP50:0.00}x iceoryx (target below iceoryx: {Verdict(topicP50 < iceoryxP50)})"));
            }
            yield return string.Create(s_culture, $"topic 64 B one-way p50, {wait}: {topicP50:N0} ns") + (parts.Count > 0 ? " vs " + string.Join("; vs ", parts) : "");
        }

        foreach (string? wait in topic.Where(r => r.Mode == BenchResult.Throughput && r.Writer is null).Select(r => r.Wait).Distinct())
        {
            foreach (int size in TopicBench.ThroughputSizes)
            {
                BenchResult? one = topic.FirstOrDefault(r => r.Mode == BenchResult.Throughput && r.Writer is null && r.Wait == wait && r.FrameBytes == size && r.Subscribers == 1);
                BenchResult? four = topic.FirstOrDefault(r => r.Mode == BenchResult.Throughput && r.Writer is null && r.Wait == wait && r.FrameBytes == size && r.Subscribers == 4);
                if (one?.FramesPerSec is double oneRate && four?.FramesPerSec is double fourRate && oneRate > 0)
                {
                    string line = string.Create(s_culture,
                        $"topic throughput per subscriber {FormatSize(size)}, {wait}: 4 subscribers {fourRate:N0}/s ({fourRate * size / 1e9:0.000} GB/s) vs 1 subscriber {oneRate:N0}/s ({oneRate * size / 1e9:0.000} GB/s) = {100 * fourRate / oneRate:0}%");
                    yield return size == 1 << 20 ? line + $" (target >= 50%: {Verdict(fourRate >= oneRate / 2)})" : line;
                }
            }
        }

        BenchResult? full = topic.FirstOrDefault(r => r.Writer == BenchResult.FullWriter);
        BenchResult? modified = topic.FirstOrDefault(r => r.Writer == BenchResult.ModifiedWriter);
        if (full?.FramesPerSec is double fullRate && modified?.FramesPerSec is double modifiedRate && fullRate > 0)
        {
            yield return string.Create(s_culture,
                $"topic {FormatSize(TopicBench.WriterBytes)} changed by 1 byte per send: WriteModified {modifiedRate:N0}/s vs WriteFull {fullRate:N0}/s = {modifiedRate / fullRate:0.0}x (target >= 100x: {Verdict(modifiedRate >= 100 * fullRate)})");
        }

        double sender = topic.Max(r => r.SenderAllocatedBytesPerFrame ?? 0);
        double receiver = topic.Max(r => r.ReceiverAllocatedBytesPerFrame ?? 0);
        yield return string.Create(s_culture,
            $"topic allocation per sample, highest of all topic rows: publisher side {sender:G3} B, subscriber side {receiver:G3} B (target 0 B: {Verdict(sender == 0 && receiver == 0)})");
    }

    private static string Verdict(bool met) => met ? "met" : "MISSED";

    internal static string FormatSize(long bytes) => bytes switch
    {
        >= 1 << 20 when bytes % (1 << 20) == 0 => string.Create(s_culture, $"{bytes >> 20} MiB"),
        >= 1 << 10 and < 1 << 20 when bytes % (1 << 10) == 0 => string.Create(s_culture, $"{bytes >> 10} KiB"),
        _ => string.Create(s_culture, $"{bytes:N0} B"),
    };

    /// <summary>The 1-, 5- and 15-minute load averages, so a reader can tell whether the machine was busy.</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>
    /// The ring against a peer, where <paramref name="small"/> and <paramref name="large"/> are the two figures in the order
    /// that favours the ring (ring latency and peer latency, or peer rate and ring rate): "ring 3.1x lower" when the ring
    /// is ahead, "ring 1.4x HIGHER" when it is behind.
    /// </summary>
    private static string Factor(double small, double large, string ahead, string behind) => small <= large
        ? string.Create(s_culture, $"ring {large / small:0.0}x {ahead}")
        : string.Create(s_culture, $"ring {small / large:0.0}x {behind}");

    private static string Format(double? value, string format) => value is double number ? number.ToString(format, s_culture) : "-";
}
