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
    public const double DefaultSeconds = 2;

    /// <summary>Default warm-up before each measurement, in seconds.</summary>
    public const double DefaultWarmupSeconds = 0.5;

    /// <summary>Longest measurement, and longest warm-up, in seconds.</summary>
    public const double MaxSeconds = 3600;

    private static readonly (string Suffix, int Shift)[] s_sizeSuffixes = [("KiB", 10), ("K", 10), ("MiB", 20), ("M", 20), ("GiB", 30), ("G", 30)];

    private BenchSettings(IReadOnlyList<int> sizes, double seconds, double warmupSeconds, IReadOnlySet<string> only, IReadOnlyList<WaitStrategy> waits, bool json)
    {
        Sizes = sizes;
        Seconds = seconds;
        WarmupSeconds = warmupSeconds;
        Only = only;
        Waits = waits;
        Json = json;
    }

    /// <summary>Every part (what <c>--only all</c> runs), in the order a run measures them.</summary>
    public static IReadOnlyList<string> AllParts { get; } = [Ring, Topics, Iceoryx, Messages, Socket, MessageSockets, Arrays, MemoryCopy, CacheLine];

    /// <summary>
    /// The parts a run without <c>--only</c> measures: every part but <see cref="Iceoryx"/>, which starts iceoryx's
    /// machine-wide RouDi daemon and would add about a minute; name it to measure it. <see cref="Topics"/> is in: its eleven
    /// measurements add about 40 seconds to the default run's three and a half minutes.
    /// </summary>
    public static IReadOnlyList<string> DefaultParts { get; } = AllParts.Where(part => part != Iceoryx).ToArray();

    /// <summary>The frame sizes measured when <c>--sizes</c> is not given.</summary>
    public static IReadOnlyList<int> DefaultSizes { get; } = [64, 1024, 64 * 1024, 1024 * 1024, VideoFrameBytes];

    /// <summary>Frame sizes in bytes, each once, in the order given.</summary>
    public IReadOnlyList<int> Sizes { get; }

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
    /// <exception cref="ArgumentException">An option is out of range or not understood; the message names it and says what it takes.</exception>
    public static BenchSettings Parse(
        string? sizes = null,
        double seconds = DefaultSeconds,
        double warmupSeconds = DefaultWarmupSeconds,
        string? only = null,
        string? waits = null,
        bool json = false)
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
        return new BenchSettings(
            sizes is null ? DefaultSizes : ParseSizes(sizes),
            seconds,
            warmupSeconds,
            ParseOnly(only),
            ParseWaits(waits),
            json);
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
