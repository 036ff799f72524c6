using System.Globalization;
using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>What one <c>zerolane bench</c> run measures, from its command line.</summary>
internal sealed record BenchSettings(IReadOnlyList<int> Sizes, double Seconds, double WarmupSeconds, IReadOnlySet<string> Only, IReadOnlyList<WaitStrategy> Waits, bool Json)
{
    internal const string Ring = "ring";
    internal const string Socket = "socket";
    internal const string MemoryCopy = "memcpy";
    internal const string CacheLine = "cacheline";
    internal const string Messages = "messages";
    internal const string MessageSockets = "message-sockets";
    internal const string Arrays = "arrays";

    internal static readonly string[] AllParts = [Ring, Messages, Socket, MessageSockets, Arrays, MemoryCopy, CacheLine];

    /// <summary>1080p RGB24: one video frame, the workload the ring was built for.</summary>
    internal const int VideoFrameBytes = 6_220_800;

    internal static readonly int[] DefaultSizes = [64, 1024, 64 * 1024, 1024 * 1024, VideoFrameBytes];

    /// <summary>Largest frame the bench accepts (each ring then needs four of them).</summary>
    internal const int MaxFrameBytes = 256 << 20;

    internal bool Includes(string part) => Only.Contains(part);

    /// <summary>Payload block for frames of <paramref name="frameBytes"/>: several frames plus slack, at least 1 MiB.</summary>
    internal static long PayloadBytesFor(int frameBytes) => Math.Max(4L * frameBytes + 64 * 1024, 1024 * 1024);

    /// <summary>Capacity of a latency sample array: enough for a fast transport over the whole window, bounded.</summary>
    internal int MaxSamples => (int)Math.Clamp(Seconds * 4_000_000, 100_000, 16_000_000);

    /// <summary>Parses "64,1024,64K,1M,6220800" (K and M are binary multiples).</summary>
    internal static int[] ParseSizes(string text)
    {
        var sizes = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            long multiplier = 1;
            string digits = part;
            if (part.EndsWith("KiB", StringComparison.OrdinalIgnoreCase) || part.EndsWith('K') || part.EndsWith('k'))
            {
                multiplier = 1024;
                digits = part.TrimEnd('B', 'b', 'i', 'I').TrimEnd('K', 'k');
            }
            else if (part.EndsWith("MiB", StringComparison.OrdinalIgnoreCase) || part.EndsWith('M') || part.EndsWith('m'))
            {
                multiplier = 1024 * 1024;
                digits = part.TrimEnd('B', 'b', 'i', 'I').TrimEnd('M', 'm');
            }
            if (!long.TryParse(digits.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out long value)
                || value * multiplier is < 1 or > MaxFrameBytes)
            {
                throw new ArgumentException($"Frame size '{part}' is not a whole number of bytes from 1 to {MaxFrameBytes} (K and M suffixes allowed).");
            }
            sizes.Add((int)(value * multiplier));
        }
        if (sizes.Count == 0)
        {
            throw new ArgumentException("--sizes needs at least one frame size.");
        }
        return sizes.Distinct().ToArray();
    }

    /// <summary>Parses "busy-spin,blocking" into the ring wait strategies to measure; nothing means all three.</summary>
    internal static IReadOnlyList<WaitStrategy> ParseWaits(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? BenchWait.All
            : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchWait.Parse).Distinct().ToArray();

    /// <summary>Parses "ring,socket" into the parts to run; "all" or nothing means every part.</summary>
    internal static IReadOnlySet<string> ParseOnly(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim() == "all")
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
        return parts;
    }
}
