using System.Globalization;
using System.Text;

namespace ZeroLane.Cli.Demo;

/// <summary>
/// One line a demo child prints on standard output for its parent: a kind, then <c>key=value</c> pairs of
/// integers, e.g. <c>progress frames=120 bytes=746496000 p50_ns=812000</c>.
/// </summary>
internal sealed class DemoReport
{
    /// <summary>The reader has created the buffer; the writer may connect.</summary>
    internal const string Ready = "ready";

    /// <summary>Figures so far (the reader, about every 250 ms).</summary>
    internal const string Progress = "progress";

    /// <summary>Final figures (the reader and the writer, once, at the end).</summary>
    internal const string Summary = "summary";

    internal const string Frames = "frames";
    internal const string Bytes = "bytes";
    internal const string ElapsedNs = "elapsed_ns";
    internal const string P50Ns = "p50_ns";
    internal const string P99Ns = "p99_ns";
    internal const string MaxNs = "max_ns";
    internal const string Lost = "lost";
    internal const string Reordered = "reordered";
    internal const string Corrupt = "corrupt";
    internal const string Failed = "failed";
    internal const string PayloadCapacity = "payload";

    /// <summary>Bytes the reader allocated on its frame path (wait, read, verify, measure).</summary>
    internal const string FramePathAllocatedBytes = "frame_alloc";

    /// <summary>Payload-block utilization in basis points (1/100 of a percent).</summary>
    internal const string UtilizationBasisPoints = "util_bp";

    private readonly Dictionary<string, long> _values;

    private DemoReport(string kind, Dictionary<string, long> values)
    {
        Kind = kind;
        _values = values;
    }

    internal string Kind { get; }

    internal long this[string key] => _values.GetValueOrDefault(key);

    internal bool Has(string key) => _values.ContainsKey(key);

    /// <summary>Formats a report line (without newline).</summary>
    internal static string Format(string kind, params ReadOnlySpan<(string Key, long Value)> values)
    {
        var line = new StringBuilder(kind);
        foreach ((string key, long value) in values)
        {
            line.Append(' ').Append(key).Append('=').Append(value.ToString(CultureInfo.InvariantCulture));
        }
        return line.ToString();
    }

    /// <summary>Parses a line written by <see cref="Format"/>; null for any other line.</summary>
    internal static DemoReport? TryParse(string line)
    {
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0].Contains('='))
        {
            return null;
        }
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string part in parts.AsSpan(1))
        {
            int equals = part.IndexOf('=');
            if (equals <= 0 || !long.TryParse(part.AsSpan(equals + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                return null;
            }
            values[part[..equals]] = value;
        }
        return new DemoReport(parts[0], values);
    }
}
