using System.Globalization;

namespace ZeroLane.Bench;

/// <summary>
/// The human-readable output: the run's header first; at the end an aligned table, every column as wide as its widest
/// cell (so no transport name can push a row out of line), then the ratios that matter (ring against memcpy, the socket
/// and the cache line) and notes on what was measured.
/// </summary>
internal sealed class BenchTable
{
    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    /// <summary>The columns: heading, right-aligned (numbers) or not, and the cell of a row.</summary>
    private static readonly (string Heading, bool Right, Func<BenchResult, string> Cell)[] s_columns =
    [
        ("transport", false, r => r.Transport),
        ("mode", false, r => r.Mode),
        ("wait", false, r => r.Wait ?? "-"),
        ("cpus", false, r => r.Cpus ?? "-"),
        ("x-core ns", true, r => Format(r.CrossCoreNs, "N0")),
        ("subs", true, r => r.Subscribers is int subscribers ? subscribers.ToString(s_culture) : "-"),
        ("writer", false, r => r.Writer ?? "-"),
        ("in-flight", true, r => r.InFlight is int inFlight ? inFlight.ToString(s_culture) : "-"),
        ("frame", true, r => FormatSize(r.FrameBytes)),
        ("frames/s", true, r => Format(r.FramesPerSec, "N0")),
        ("GB/s", true, r => Format(r.BytesPerSec / 1e9, "0.000")),
        ("p50 ns", true, r => Format(r.P50Ns, "N0")),
        ("p99 ns", true, r => Format(r.P99Ns, "N0")),
        ("p99.9 ns", true, r => Format(r.P999Ns, "N0")),
        ("max ns", true, r => Format(r.MaxNs, "N0")),
        ("runs", true, r => r.Runs.ToString(s_culture)),
        ("spread", true, r => r.SpreadPercent is double spread ? string.Create(s_culture, $"{spread:0}%{(r.Unsteady ? " !" : "  ")}") : "-  "),
        // A side without figures (iceoryx's C peers, the python part's Python side) shows "-".
        ("alloc B/frame (tx/rx)", false, r => r.SenderAllocatedBytesPerFrame is null && r.ReceiverAllocatedBytesPerFrame is null
            ? "-"
            : $"{Format(r.SenderAllocatedBytesPerFrame, "0.##")} / {Format(r.ReceiverAllocatedBytesPerFrame, "0.##")}"),
    ];

    private const string ColumnGap = "  ";

    private const string AboveMemcpyNote =
        "memcpy is measured on 256 MiB, beyond the last-level cache; a ring whose payload block (4 frames + 64 KiB) fits in that cache can beat it, because its bytes never go to DRAM.";

    private readonly TextWriter _output;
    private readonly List<string> _notes = new();
    private readonly List<BenchResult> _rows = new();

    internal BenchTable(TextWriter output) => _output = output;

    internal void AddNote(string note) => _notes.Add(note);

    /// <summary>Keeps a row for the table, which is written once every row is in (so each column is as wide as its widest cell).</summary>
    internal void AddRow(BenchResult result) => _rows.Add(result);

    internal void WriteHeader(BenchSettings settings, string machine, double clockReadNs)
    {
        _output.WriteLine($"zerolane bench: {machine}; load average {LoadAverage()}");
        _output.WriteLine(string.Create(s_culture,
            $"{settings.Seconds:0.###} s per measurement after {settings.WarmupSeconds:0.###} s warm-up, each run {settings.Repeat} times; frame sizes {string.Join(", ", settings.Sizes.Select(s => FormatSize(s)))}"));
        _output.Flush();
        AddNote(string.Create(s_culture,
            $"latency: one way = half of each timed round trip; each round trip includes one clock read ({clockReadNs:0.#} ns). In latency rows frames/s counts round trips."));
        AddNote(string.Create(s_culture,
            $"runs, spread: each figure is the median of the row's runs; spread = (highest - lowest) / median of p50 (rows with latency) or frames/s (the others); '!' marks a spread above {BenchResult.UnsteadySpreadPercent:0}%: the runs disagree, do not judge by that row."));
    }

    /// <summary>The rows as an aligned table: every column as wide as its widest cell, two spaces between columns.</summary>
    internal static IReadOnlyList<string> Render(IReadOnlyList<BenchResult> rows)
    {
        string[][] cells = rows.Select(row => s_columns.Select(column => column.Cell(row)).ToArray()).ToArray();
        int[] widths = s_columns.Select((column, i) => cells.Select(row => row[i].Length).Append(column.Heading.Length).Max()).ToArray();
        string Line(IReadOnlyList<string> values) => string.Join(ColumnGap, values.Select((value, i) =>
            i == values.Count - 1 ? value : s_columns[i].Right ? value.PadLeft(widths[i]) : value.PadRight(widths[i])));
        var lines = new List<string> { Line(s_columns.Select(column => column.Heading).ToArray()) };
        lines.Add(new string('-', lines[0].Length));
        lines.AddRange(cells.Select(Line));
        return lines;
    }

    /// <summary>One row in a line, for progress while the run goes on: what was measured and its headline figure.</summary>
    internal static string Describe(BenchResult result)
    {
        string what = string.Join(' ', new[] { result.Transport, result.Mode, result.Wait, result.Writer, FormatSize(result.FrameBytes) }.Where(part => part is not null));
        string figure = result.P50Ns is double p50
            ? string.Create(s_culture, $"p50 {p50:N0} ns")
            : string.Create(s_culture, $"{result.FramesPerSec ?? 0:N0} frames/s");
        string spread = result.SpreadPercent is double percent ? string.Create(s_culture, $", {result.Runs} runs, spread {percent:0}%{(result.Unsteady ? " !" : "")}") : "";
        return $"{what}: {figure}{spread}";
    }

    internal void WriteSummary(IReadOnlyList<BenchResult> results, BenchSettings settings)
    {
        _output.WriteLine();
        foreach (string line in Render(_rows))
        {
            _output.WriteLine(line);
        }
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
                if (Find(BenchResult.ZeroLane, BenchResult.Throughput, wait, size) is not { BytesPerSec: double ring } ringRow)
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
                lines.Add((parts.Count > 0 ? figure + " = " + string.Join(", ", parts) : figure) + UnsteadyMark(ringRow, socket));
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
            foreach (BenchResult parts in results.Where(r => r.Transport == $"message-{kind}-8-parts"))
            {
                if (parts.BytesPerSec is double split
                    && results.FirstOrDefault(r => r.Transport == $"message-{kind}-contiguous" && r.FrameBytes == parts.FrameBytes)?.BytesPerSec is double joined && joined > 0)
                {
                    lines.Add(string.Create(s_culture,
                        $"message of 8 parts, {FormatSize(parts.FrameBytes)}, {kind}: {split / 1e9:0.00} GB/s = {100 * split / joined:0}% of the same bytes as one part ({joined / 1e9:0.00} GB/s)"));
                }
            }
            foreach (BenchResult single in results.Where(r => r.Transport == $"message-{kind}-single"))
            {
                if (single.FramesPerSec is double one
                    && results.FirstOrDefault(r => r.Transport == $"message-{kind}-batched" && r.FrameBytes == single.FrameBytes)?.FramesPerSec is double many)
                {
                    lines.Add(string.Create(s_culture, $"{FormatSize(single.FrameBytes)} messages, {kind}: {one:N0}/s one per send, {many:N0}/s in batches of {MessageSocketBench.Batch}"));
                }
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
        lines.AddRange(PythonSummary(results));
        lines.AddRange(DuplexSummary(results));
        lines.AddRange(GatewaySummary(results));

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
            foreach (int size in topic.Where(r => r.Mode == BenchResult.Throughput && r.Writer is null).Select(r => (int)r.FrameBytes).Distinct())
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
                $"topic {FormatSize(full.FrameBytes)} changed by 1 byte per send: WriteModified {modifiedRate:N0}/s vs WriteFull {fullRate:N0}/s = {modifiedRate / fullRate:0.0}x (target >= 100x: {Verdict(modifiedRate >= 100 * fullRate)})");
        }

        double sender = topic.Max(r => r.SenderAllocatedBytesPerFrame ?? 0);
        double receiver = topic.Max(r => r.ReceiverAllocatedBytesPerFrame ?? 0);
        yield return string.Create(s_culture,
            $"topic allocation per sample, highest of all topic rows: publisher side {sender:G3} B, subscriber side {receiver:G3} B (target 0 B: {Verdict(sender == 0 && receiver == 0)})");
    }

    /// <summary>
    /// The python part against its targets (issue 11): a Python reader of 1 MiB and larger frames at least 0.8x the C#
    /// reader's throughput of the same run, size and strategy; 64 B at least 300,000 frames/s; and its latency beside the
    /// C# echo's. python-topic rows are set beside the C# subscriber's and echo's, without targets (the issue sets none).
    /// </summary>
    private static IEnumerable<string> PythonSummary(IReadOnlyList<BenchResult> results)
    {
        foreach (BenchResult python in results.Where(r => r.Transport is BenchRunner.PythonTransport or BenchRunner.PythonTopicTransport))
        {
            bool topic = python.Transport == BenchRunner.PythonTopicTransport;
            BenchResult? csharp = results.FirstOrDefault(r => r.Transport == (topic ? BenchResult.ZeroLaneTopic : BenchResult.ZeroLane)
                && r.Mode == python.Mode && r.Wait == python.Wait && r.FrameBytes == python.FrameBytes && (!topic || (r.Subscribers == 1 && r.Writer is null)));
            string head = $"{python.Transport} {FormatSize(python.FrameBytes)} {python.Mode}, {python.Wait}: ";
            if (python.Mode == BenchResult.Throughput && python.FramesPerSec is double rate)
            {
                var parts = new List<string> { string.Create(s_culture, $"{rate:N0} frames/s ({rate * python.FrameBytes / 1e9:0.000} GB/s)") };
                if (csharp?.FramesPerSec is double csharpRate && csharpRate > 0)
                {
                    string ratio = string.Create(s_culture, $"vs C# {(topic ? "subscriber" : "reader")} {csharpRate:N0} frames/s = {rate / csharpRate:0.00}x");
                    parts.Add(!topic && python.FrameBytes >= 1 << 20 ? ratio + $" (target >= 0.8x: {Verdict(rate >= 0.8 * csharpRate)})" : ratio);
                }
                if (!topic && python.FrameBytes == 64)
                {
                    parts.Add($"target >= 300,000 frames/s: {Verdict(rate >= 300_000)}");
                }
                yield return head + string.Join("; ", parts) + UnsteadyMark(python, csharp);
            }
            else if (python.Mode == BenchResult.Latency && python.P50Ns is double p50)
            {
                string versus = csharp?.P50Ns is double csharpP50 && csharpP50 > 0
                    ? string.Create(s_culture, $" vs C# echo {csharpP50:N0} ns = {p50 / csharpP50:0.0}x")
                    : "";
                yield return head + string.Create(s_culture, $"one-way p50 {p50:N0} ns, p99 {python.P99Ns:N0} ns") + versus + UnsteadyMark(python, csharp);
            }
        }
    }

    /// <summary>
    /// The duplex part against its targets (issue 12): the 64 B round trip at most 1.2x the ring's ping-pong round trip of
    /// the same run and strategy, and 0 B allocated per call on both sides. The ring's latency rows are one way (half the
    /// round trip), so the ring's round trip is twice them; every line says which figure it compares. Other sizes get the
    /// ratio without a target.
    /// </summary>
    private static IEnumerable<string> DuplexSummary(IReadOnlyList<BenchResult> results)
    {
        BenchResult[] duplex = results.Where(r => r.Transport is BenchRunner.DuplexTransport or BenchRunner.DuplexLoanTransport).ToArray();
        if (duplex.Length == 0)
        {
            yield break;
        }
        foreach (BenchResult row in duplex.Where(r => r.Mode == BenchResult.RoundTrip))
        {
            string handler = row.Transport == BenchRunner.DuplexLoanTransport ? "loan handler" : "echo handler";
            string head = string.Create(s_culture,
                $"duplex {FormatSize(row.FrameBytes)} round trip, {row.Wait}, {handler}: p50 {row.P50Ns:N0} ns, p99 {row.P99Ns:N0} ns");
            BenchResult? ring = results.FirstOrDefault(r => r.Transport == BenchResult.ZeroLane && r.Mode == BenchResult.Latency
                && r.Wait == row.Wait && r.FrameBytes == row.FrameBytes);
            if (ring is { P50Ns: double ringOneWayP50, P99Ns: double ringOneWayP99 } && ringOneWayP50 > 0 && row.P50Ns is double p50)
            {
                double ringP50 = 2 * ringOneWayP50;
                double ringP99 = 2 * ringOneWayP99;
                string versus = string.Create(s_culture,
                    $" vs ring ping-pong round trip (2 x one-way) p50 {ringP50:N0} ns, p99 {ringP99:N0} ns: p50 {p50 / ringP50:0.00}x, p99 {row.P99Ns / ringP99:0.00}x");
                if (row.FrameBytes == 64)
                {
                    versus += $" (target p50 <= 1.2x: {Verdict(p50 <= 1.2 * ringP50)})";
                }
                yield return head + versus + UnsteadyMark(row, ring);
            }
            else
            {
                yield return head + " (no ring ping-pong of that size and strategy in this run)";
            }
        }
        foreach (string? wait in duplex.Where(r => r.Mode == BenchResult.Throughput).Select(r => r.Wait).Distinct())
        {
            foreach (long size in duplex.Where(r => r.Mode == BenchResult.Throughput && r.Wait == wait).Select(r => r.FrameBytes).Distinct())
            {
                BenchResult[] rows = duplex.Where(r => r.Mode == BenchResult.Throughput && r.Wait == wait && r.FrameBytes == size)
                    .OrderBy(r => r.InFlight).ToArray();
                double? single = rows.FirstOrDefault(r => r.InFlight == 1)?.FramesPerSec;
                IEnumerable<string> rates = rows.Select(r => string.Create(s_culture, $"{r.InFlight} in flight {r.FramesPerSec:N0}/s")
                    + (single is double one && one > 0 && r.InFlight != 1 ? string.Create(s_culture, $" ({r.FramesPerSec / one:0.0}x)") : ""));
                yield return $"duplex requests/s, {FormatSize(size)}, {wait}: " + string.Join(", ", rates) + UnsteadyMark(rows);
            }
        }
        double client = duplex.Max(r => r.SenderAllocatedBytesPerFrame ?? 0);
        double server = duplex.Max(r => r.ReceiverAllocatedBytesPerFrame ?? 0);
        yield return string.Create(s_culture,
            $"duplex allocation per call, highest of all duplex rows: client {client:G3} B, server {server:G3} B (target 0 B: {Verdict(client == 0 && server == 0)})");
    }

    /// <summary>
    /// The gateway part against its targets (issue 13): delivered samples/s at least 0.9x plain NATS.Net's at 1 MiB (same run,
    /// same server), and 0 B allocated per sample on the send side (the send-loop rows). Every size gets its ratios to plain
    /// NATS.Net and to the ring bridge over TCP, its share of memcpy when the run measured it, and the whole process's
    /// allocation per sample, labelled as such.
    /// </summary>
    private static IEnumerable<string> GatewaySummary(IReadOnlyList<BenchResult> results)
    {
        BenchResult? memcpy = results.FirstOrDefault(r => r.Transport == BenchResult.MemoryCopy);
        foreach ((string transport, string label, bool target) in new[]
        {
            (GatewayBench.GatewayTransport, "gateway", true),
            (GatewayBench.GatewayNatsNetTransport, "gateway through NATS.Net", false),
        })
        {
            foreach (BenchResult gateway in results.Where(r => r.Transport == transport && r.Mode == BenchResult.Throughput))
            {
                if (gateway.FramesPerSec is not double rate)
                {
                    continue;
                }
                BenchResult? nats = results.FirstOrDefault(r => r.Transport == GatewayBench.NatsTransport && r.FrameBytes == gateway.FrameBytes);
                BenchResult? bridge = results.FirstOrDefault(r => r.Transport == GatewayBench.BridgeTransport && r.FrameBytes == gateway.FrameBytes);
                var parts = new List<string>();
                if (memcpy?.BytesPerSec is double copy && copy > 0)
                {
                    parts.Add(string.Create(s_culture, $"{100 * rate * gateway.FrameBytes / copy:0.0}% of memcpy"));
                }
                if (nats?.FramesPerSec is double natsRate && natsRate > 0)
                {
                    string ratio = string.Create(s_culture, $"vs plain NATS.Net {natsRate:N0}/s ({natsRate * gateway.FrameBytes / 1e9:0.000} GB/s): {rate / natsRate:0.00}x");
                    parts.Add(target && gateway.FrameBytes == 1 << 20 ? ratio + $" (target >= 0.9x: {Verdict(rate >= 0.9 * natsRate)})" : ratio);
                }
                if (bridge?.FramesPerSec is double bridgeRate && bridgeRate > 0)
                {
                    parts.Add(string.Create(s_culture, $"vs ring bridge over TCP {bridgeRate:N0}/s ({bridgeRate * gateway.FrameBytes / 1e9:0.000} GB/s): {rate / bridgeRate:0.00}x"));
                }
                if (gateway.AllocatedBytesPerFrame is double whole)
                {
                    parts.Add(string.Create(s_culture, $"whole bench process allocated {whole:0.##} B per sample delivered")
                        + (nats?.AllocatedBytesPerFrame is double natsWhole ? string.Create(s_culture, $" (plain NATS.Net run: {natsWhole:0.##} B)") : ""));
                }
                yield return string.Create(s_culture, $"{label} {FormatSize(gateway.FrameBytes)}: {rate:N0} samples/s ({rate * gateway.FrameBytes / 1e9:0.000} GB/s)")
                    + (parts.Count > 0 ? "; " + string.Join("; ", parts) : "") + UnsteadyMark(gateway, nats, bridge);
            }
        }
        BenchResult[] direct = results.Where(r => r.Transport == GatewayBench.DirectSenderTransport).ToArray();
        if (direct.Length > 0)
        {
            double highest = direct.Max(r => r.SenderAllocatedBytesPerFrame ?? 0);
            yield return "gateway send side (NatsSampleSender.Send on the gateway's own connection, sending thread): " + string.Join(", ", direct.Select(r =>
                    string.Create(s_culture, $"{FormatSize(r.FrameBytes)} {r.FramesPerSec:N0}/s, {r.SenderAllocatedBytesPerFrame:0.##} B per sample")))
                + $" (target 0 B: {Verdict(highest == 0)}; everything the thread allocated)";
        }
        BenchResult[] sends = results.Where(r => r.Transport == GatewayBench.SenderTransport).ToArray();
        if (sends.Length > 0)
        {
            yield return "gateway send side through NATS.Net (DirectConnection off, sending thread): " + string.Join(", ", sends.Select(r =>
                    string.Create(s_culture, $"{FormatSize(r.FrameBytes)} {r.FramesPerSec:N0}/s, {r.SenderAllocatedBytesPerFrame:0.##} B per sample")))
                + " (the notes split it between NATS.Net and the sender)";
        }
    }

    /// <summary>" (!: unsteady)" when a row a summary line rests on has runs that disagree, else nothing.</summary>
    private static string UnsteadyMark(params BenchResult?[] rows) => rows.Any(row => row?.Unsteady == true) ? " (! a row it rests on is unsteady)" : "";

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
