using System.Globalization;

namespace ZeroLane.Cli.Output;

/// <summary>Human-readable sizes, rates and durations, always with the invariant culture.</summary>
internal static class Units
{
    private static readonly string[] s_binaryUnits = ["B", "KiB", "MiB", "GiB", "TiB"];

    /// <summary>A byte count in binary units: <c>512 B</c>, <c>32.0 MiB</c>.</summary>
    internal static string Bytes(long bytes)
    {
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1024 && unit < s_binaryUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {s_binaryUnits[unit]}");
    }

    /// <summary>A decimal gigabyte count: <c>12.34 GB</c>.</summary>
    internal static string Gigabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:0.00} GB");

    /// <summary>Throughput in decimal gigabytes per second: <c>9.87 GB/s</c>.</summary>
    internal static string GigabytesPerSecond(double bytesPerSecond) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1e9:0.00} GB/s");

    /// <summary>A duration given in nanoseconds, in the unit that suits it: <c>850 ns</c>, <c>12.3 us</c>, <c>1.23 ms</c>, <c>2.50 s</c>.</summary>
    internal static string Nanoseconds(long nanoseconds) => nanoseconds switch
    {
        < 1_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds} ns"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e3:0.0} us"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e6:0.00} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e9:0.00} s"),
    };

    /// <summary>A count with thousands separators: <c>1,234,567</c>.</summary>
    internal static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A count with thousands separators: <c>1,234,567</c>.</summary>
    internal static string Count(ulong count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A fraction 0..1 as a percentage: <c>42.0%</c>.</summary>
    internal static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:0.0}%");
}
