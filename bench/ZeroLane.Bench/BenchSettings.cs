using System.Globalization;
using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>
/// What one <c>zerolane bench</c> run measures: the bench command's options, parsed and checked by
/// <see cref="Parse"/>, the only way to make one.
/// </summary>
public sealed class BenchSettings
{
    /// <summary>Part name: ring throughput and latency between two processes, for each wait strategy.</summary>
    public const string Ring = "ring";

    /// <summary>
    /// Part name: topics, one publisher to one or more subscriber processes: 64 B latency per wait strategy, throughput per
    /// subscriber at 64 B, 1 MiB and 8 MiB with 1 and 4 subscribers, and an 8 MiB sample changed in place against written whole.
    /// </summary>
    public const string Topics = "topics";

    /// <summary>
    /// Part name: a real peer, Eclipse iceoryx 2.0 (Debian's <c>iceoryx</c> and <c>libiceoryx-binding-c-dev</c>) through its
    /// C binding, with RouDi started and stopped by the bench. Not in the default run: it starts a machine-wide daemon.
    /// </summary>
    public const string Iceoryx = "iceoryx";

    /// <summary>
    /// Part name: ZeroLane's Python client (<c>python/zerolane</c>, run by /usr/bin/python3) reading what a C# writer
    /// writes, in place: throughput at 64 B, 1 MiB and 1080p, 64 B latency with a Python echo, each against the C# reader
    /// of the same run. Not in the default run: it needs the Python package (found in the repository or installed).
    /// </summary>
    public const string Python = "python";

    /// <summary>
    /// Part name: the Python client's topics as the subscriber of a C# publisher (64 B, 1 MiB, 1080p) and as the echo of the
    /// 64 B latency, each against the <see cref="Topics"/> row of the same run. Not in the default run, as <see cref="Python"/>.
    /// </summary>
    public const string PythonTopic = "python-topic";

    /// <summary>
    /// Part name: duplex channels (a <c>DuplexServer</c> in a peer process, a <c>DuplexClient</c> in another): the whole round
    /// trip at 64 B and 1 MiB per wait strategy, for the echo handler and the loan handler, each beside a ring ping-pong of the
    /// same run, size and strategy; requests/s with 1, 4 and 16 requests in flight; allocation per call on both sides. Not in
    /// the default run: its 21 measurements would add about two and a half minutes to it.
    /// </summary>
    public const string Duplex = "duplex";

    /// <summary>
    /// Part name: the NATS gateway (ZeroLane.Nats, issue 13): publisher -> export gateway -> nats-server -> import gateway ->
    /// subscriber on loopback at 1 MiB, 1080p and 64 B, against plain NATS.Net and the ring bridge over TCP of the same run,
    /// and the gateway's send call alone for its allocation per sample. Not in the default run: it starts its own
    /// nats-server (/usr/sbin/nats-server; skipped with a note when missing).
    /// </summary>
    public const string Gateway = "gateway";

    /// <summary>Part name: the same transfers over a plain Unix domain socket.</summary>
    public const string Socket = "socket";

    /// <summary>Part name: the machine's memory copy bandwidth.</summary>
    public const string MemoryCopy = "memcpy";

    /// <summary>Part name: the cross-core cache-line round trip.</summary>
    public const string CacheLine = "cacheline";

    /// <summary>Part name: messages of 8 parts through the ring.</summary>
    public const string Messages = "messages";

    /// <summary>Part name: messages over TCP and Unix sockets.</summary>
    public const string MessageSockets = "message-sockets";

    /// <summary>Part name: mapped arrays (open, read, element access, save).</summary>
    public const string Arrays = "arrays";

    /// <summary>1080p RGB24: one video frame, the workload the ring was built for.</summary>
    public const int VideoFrameBytes = 6_220_800;

    /// <summary>Largest frame the bench accepts (each ring then needs four of them).</summary>
    public const int MaxFrameBytes = 256 << 20;

    /// <summary>Default length of each measurement, in seconds.</summary>
    /// <remarks>One second, run <see cref="DefaultRepeat"/> times: three short windows at different moments tell more than one long one.</remarks>
    public const double DefaultSeconds = 1;

    /// <summary>Default number of runs of each measurement (the table shows their median and spread).</summary>
    public const int DefaultRepeat = 3;

    /// <summary>Most runs of one measurement.</summary>
    public const int MaxRepeat = 100;

    /// <summary>Default warm-up before each measurement, in seconds.</summary>
    public const double DefaultWarmupSeconds = 0.5;

    /// <summary>Longest measurement, and longest warm-up, in seconds.</summary>
    public const double MaxSeconds = 3600;

    private static readonly (string Suffix, int Shift)[] s_sizeSuffixes = [("KiB", 10), ("K", 10), ("MiB", 20), ("M", 20), ("GiB", 30), ("G", 30)];

    private BenchSettings(
        IReadOnlyList<int> sizes, bool sizesGiven, double seconds, double warmupSeconds, IReadOnlySet<string> only, bool onlyNamed,
        IReadOnlyList<WaitStrategy> waits, int repeat, bool json)
    {
        Sizes = sizes;
        SizesGiven = sizesGiven;
        OnlyNamed = onlyNamed;
        Repeat = repeat;
        Seconds = seconds;
        WarmupSeconds = warmupSeconds;
        Only = only;
        Waits = waits;
        Json = json;
    }

    /// <summary>Every part (what <c>--only all</c> runs), in the order a run measures them.</summary>
    public static IReadOnlyList<string> AllParts { get; } = [Ring, Topics, Iceoryx, Python, PythonTopic, Duplex, Gateway, Messages, Socket, MessageSockets, Arrays, MemoryCopy, CacheLine];

    /// <summary>
    /// The parts a run without <c>--only</c> measures: every part but <see cref="Iceoryx"/>, which starts iceoryx's
    /// machine-wide RouDi daemon and would add about a minute, <see cref="Python"/> and <see cref="PythonTopic"/>, which need the Python client and
    /// measures every wait strategy at three sizes against its own C# reference rows, and <see cref="Duplex"/>, whose 21
    /// measurements (three runs each, with process start-up) would add about two and a half minutes, and <see cref="Gateway"/>,
    /// which starts a nats-server; name them to measure them.
    /// <see cref="Topics"/> is in: its eleven measurements add about 40 seconds to the default run's three and a half minutes.
    /// </summary>
    public static IReadOnlyList<string> DefaultParts { get; } = AllParts.Where(part => part is not (Iceoryx or Python or PythonTopic or Duplex or Gateway)).ToArray();

    /// <summary>The frame sizes measured when <c>--sizes</c> is not given.</summary>
    public static IReadOnlyList<int> DefaultSizes { get; } = [64, 1024, 64 * 1024, 1024 * 1024, VideoFrameBytes];

    /// <summary>Frame sizes in bytes, each once, in the order given.</summary>
    public IReadOnlyList<int> Sizes { get; }

    /// <summary>
    /// True when <c>--sizes</c> was given: then every part with a size dimension measures these sizes (those it can carry)
    /// instead of its own defaults.
    /// </summary>
    public bool SizesGiven { get; }

    /// <summary>True when <c>--only</c> named the parts one by one: a named part that can carry none of the sizes is an error, not a note.</summary>
    public bool OnlyNamed { get; }

    /// <summary>Runs of each measurement; the result is their median, with the spread between the lowest and the highest.</summary>
    public int Repeat { get; }

    /// <summary>Length of each measurement, in seconds.</summary>
    public double Seconds { get; }

    /// <summary>Warm-up before each measurement (lets JIT tiering finish), in seconds.</summary>
    public double WarmupSeconds { get; }

    /// <summary>The parts to run (names from <see cref="AllParts"/>).</summary>
    public IReadOnlySet<string> Only { get; }

    /// <summary>The ring wait strategies to measure, each once.</summary>
    public IReadOnlyList<WaitStrategy> Waits { get; }

    /// <summary>One JSON object per result instead of a table.</summary>
    public bool Json { get; }

    /// <summary>
    /// Parses and checks the bench command's options; every parameter left out takes the command's default.
    /// </summary>
    /// <param name="sizes">
    /// <c>--sizes</c>: frame sizes, comma-separated, each a whole number of bytes from 1 to
    /// <see cref="MaxFrameBytes"/>, optionally with a binary suffix K, KiB, M, MiB, G or GiB (any case) and
    /// <c>_</c> between digits: <c>64,1K,64KiB,1M</c>. Null means <see cref="DefaultSizes"/>.
    /// </param>
    /// <param name="seconds"><c>--seconds</c>: above 0 and at most <see cref="MaxSeconds"/>.</param>
    /// <param name="warmupSeconds"><c>--warmup</c>: from 0 to <see cref="MaxSeconds"/>.</param>
    /// <param name="only">
    /// <c>--only</c>: part names from <see cref="AllParts"/>, comma-separated; <c>all</c> means every part; null or blank
    /// means <see cref="DefaultParts"/>.
    /// </param>
    /// <param name="waits"><c>--wait</c>: busy-spin, spin-then-block, blocking, comma-separated; null or blank means all three.</param>
    /// <param name="json"><c>--json</c>.</param>
    /// <param name="repeat"><c>--repeat</c>: runs of each measurement, 1 to <see cref="MaxRepeat"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range or not understood; the message names it and says what it takes.</exception>
    public static BenchSettings Parse(
        string? sizes = null,
        double seconds = DefaultSeconds,
        double warmupSeconds = DefaultWarmupSeconds,
        string? only = null,
        string? waits = null,
        bool json = false,
        int repeat = DefaultRepeat)
    {
        // Written so that NaN fails too.
        if (!(seconds > 0 && seconds <= MaxSeconds))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--seconds takes a length above 0 and at most {MaxSeconds} seconds, not {seconds}."));
        }
        if (!(warmupSeconds >= 0 && warmupSeconds <= MaxSeconds))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--warmup takes 0 to {MaxSeconds} seconds, not {warmupSeconds}."));
        }
        if (repeat < 1 || repeat > MaxRepeat)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--repeat takes 1 to {MaxRepeat} runs, not {repeat}."));
        }
        var settings = new BenchSettings(
            sizes is null ? DefaultSizes : ParseSizes(sizes),
            sizes is not null,
            seconds,
            warmupSeconds,
            ParseOnly(only),
            !string.IsNullOrWhiteSpace(only) && only.Trim() != "all",
            ParseWaits(waits),
            repeat,
            json);
        settings.CheckNamedPartsCanRun();
        return settings;
    }

    /// <summary>
    /// The sizes of <see cref="Sizes"/> that <paramref name="part"/> can carry when <c>--sizes</c> was given (null: the part
    /// has no size dimension, or it measures its own defaults because <c>--sizes</c> was not given), and what it needs,
    /// said for a message.
    /// </summary>
    internal (IReadOnlyList<int>? Sizes, string Needs) SizesFor(string part)
    {
        if (!SizesGiven)
        {
            return (null, "");
        }
        (Func<int, bool>? fits, string needs) = part switch
        {
            Messages => ((Func<int, bool>?)(size => size >= BenchRunner.MessagePartsMinimumFrame),
                $"frames of at least {BenchTable.FormatSize(BenchRunner.MessagePartsMinimumFrame)} (a message of {BenchRunner.MessageParts} parts and its header)"),
            Arrays => (size => size % sizeof(float) == 0, "sizes that are whole float32 elements (multiples of 4 B)"),
            // Message sockets: sizes up to 64 KiB are sent one per call and batched, larger ones as 8 parts and as one.
            Ring or Socket or Topics or Iceoryx or Python or PythonTopic or Duplex or Gateway or MessageSockets => (size => true, ""),
            _ => (null, ""),
        };
        return fits is null ? (null, "") : (Sizes.Where(fits).ToArray(), needs);
    }

    /// <summary>A part named in <c>--only</c> that can carry none of the sizes given would measure nothing: refused before anything runs.</summary>
    private void CheckNamedPartsCanRun()
    {
        if (!OnlyNamed)
        {
            return;
        }
        foreach (string part in AllParts.Where(Only.Contains))
        {
            (IReadOnlyList<int>? sizes, string needs) = SizesFor(part);
            if (sizes is { Count: 0 })
            {
                throw new ArgumentException(
                    $"--only {part} needs {needs}; --sizes gave only {string.Join(", ", Sizes.Select(size => BenchTable.FormatSize(size)))}.");
            }
        }
    }

    internal bool Includes(string part) => Only.Contains(part);

    /// <summary>Payload block for frames of <paramref name="frameBytes"/>: several frames plus slack, at least 1 MiB.</summary>
    internal static long PayloadBytesFor(int frameBytes) => Math.Max(4L * frameBytes + 64 * 1024, 1024 * 1024);

    /// <summary>Capacity of a latency sample array: enough for a fast transport over the whole window, bounded.</summary>
    internal int MaxSamples => (int)Math.Clamp(Seconds * 4_000_000, 100_000, 16_000_000);

    private static int[] ParseSizes(string text)
    {
        var sizes = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            sizes.Add(ParseSize(part));
        }
        if (sizes.Count == 0)
        {
            throw new ArgumentException("--sizes needs at least one frame size.");
        }
        return sizes.Distinct().ToArray();
    }

    private static int ParseSize(string text)
    {
        string digits = text;
        int shift = 0;
        foreach ((string suffix, int suffixShift) in s_sizeSuffixes)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                digits = text[..^suffix.Length];
                shift = suffixShift;
                break;
            }
        }
        // The bound is divided rather than the value multiplied, so no number of digits can overflow into range.
        if (!long.TryParse(digits.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            || value < 1 || value > MaxFrameBytes >> shift)
        {
            throw new ArgumentException(
                $"--sizes takes whole numbers of bytes from 1 to {MaxFrameBytes} (256 MiB), with K, M or G for binary multiples (64K = 65536), not '{text}'.");
        }
        return (int)(value << shift);
    }

    private static IReadOnlyList<WaitStrategy> ParseWaits(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return BenchWait.All;
        }
        WaitStrategy[] waits = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchWait.Parse).Distinct().ToArray();
        if (waits.Length == 0)
        {
            throw new ArgumentException("--wait needs at least one wait strategy: busy-spin, spin-then-block or blocking.");
        }
        return waits;
    }

    private static IReadOnlySet<string> ParseOnly(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new HashSet<string>(DefaultParts, StringComparer.Ordinal);
        }
        if (text.Trim() == "all")
        {
            return new HashSet<string>(AllParts, StringComparer.Ordinal);
        }
        var parts = new HashSet<string>(StringComparer.Ordinal);
        foreach (string part in text.Split([',', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!AllParts.Contains(part, StringComparer.Ordinal))
            {
                throw new ArgumentException($"--only takes {string.Join(", ", AllParts)} (comma-separated), not '{part}'.");
            }
            parts.Add(part);
        }
        if (parts.Count == 0)
        {
            throw new ArgumentException($"--only needs at least one part: {string.Join(", ", AllParts)}.");
        }
        return parts;
    }
}
