using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ZeroLane.Buffers;

namespace ZeroLane.Cli;

/// <summary>Options and arguments several commands share, and how their values are parsed.</summary>
internal static class CommonOptions
{

    /// <summary>The buffer name argument.</summary>
    internal static Argument<string> CreateNameArgument() => new("name")
    {
        Description = "The buffer's name: 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'.",
    };

    /// <summary><c>--lock-dir DIR</c>: where readers keep their lock files; null for the library's default.</summary>
    internal static Option<string?> CreateLockDirectoryOption() => new("--lock-dir")
    {
        Description = "Directory of the readers' lock files (default /tmp/zerobuffer). A private directory keeps other users away from them; " +
            "readers and 'clean' must use the same one.",
        HelpName = "dir",
    };

    /// <summary>
    /// <c>--wait busy-spin|spin-then-block|blocking</c> (also <c>busy</c>, <c>spin</c>), default <c>spin-then-block</c>: the
    /// names of <c>bench --wait</c> and of <see cref="WaitStrategy"/>, for every command.
    /// </summary>
    internal static Option<string> CreateWaitOption()
    {
        var option = new Option<string>("--wait")
        {
            Description = "How to wait: 'spin-then-block' (spin briefly, then sleep; the default), 'blocking' (sleep at once, least CPU) " +
                "or 'busy-spin' (never sleep, lowest latency, one busy core); 'spin' and 'busy' are short for the first and the last.",
            DefaultValueFactory = _ => "spin-then-block",
            HelpName = "busy-spin|spin-then-block|blocking",
        };
        option.AcceptOnlyFromAmong(ZeroLane.Bench.BenchWait.AcceptedNames);
        return option;
    }

    /// <summary><c>--connect-timeout SECONDS</c>: how long to keep trying to <paramref name="what"/> (exit code 1 after that).</summary>
    internal static Option<double> CreateConnectTimeoutOption(string what, double defaultSeconds) => new("--connect-timeout")
    {
        Description = $"Seconds to keep trying to {what} before giving up (exit code 1); default {defaultSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}.",
        DefaultValueFactory = _ => defaultSeconds,
        HelpName = "seconds",
    };

    /// <summary>The value of a <see cref="CreateConnectTimeoutOption"/>, checked.</summary>
    internal static TimeSpan ParseConnectTimeout(double seconds)
    {
        CliErrors.Require(seconds is >= 0 and < 1e9, "--connect-timeout must be a non-negative number of seconds.");
        return TimeSpan.FromSeconds(seconds);
    }

    internal static WaitStrategy ParseWait(string? value) =>
        value is null ? WaitStrategy.SpinThenBlock : ZeroLane.Bench.BenchWait.Parse(value);

    /// <summary>
    /// A size in bytes that also accepts binary suffixes: <c>4096</c>, <c>64K</c>, <c>32M</c>, <c>32MiB</c>, <c>1G</c>.
    /// </summary>
    internal static Option<long> CreateSizeOption(string name, string description, long defaultValue) => new(name)
    {
        Description = description + SizeSyntax,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseSizeToken(result) ?? defaultValue,
        HelpName = "bytes",
    };

    /// <summary>Like <see cref="CreateSizeOption"/> but with no default value (null when absent).</summary>
    internal static Option<long?> CreateOptionalSizeOption(string name, string description) => new(name)
    {
        Description = description + SizeSyntax,
        CustomParser = ParseSizeToken,
        HelpName = "bytes",
    };

    /// <summary>Parses <c>123</c>, <c>64K</c>, <c>32M</c>, <c>32MiB</c>, <c>1G</c>; null if it is not a size.</summary>
    internal static long? ParseSize(string text)
    {
        string value = text.Trim();
        int multiplierShift = 0;
        string[] suffixes = ["KiB", "MiB", "GiB", "KB", "MB", "GB", "K", "M", "G"];
        foreach (string suffix in suffixes)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                multiplierShift = char.ToUpperInvariant(suffix[0]) switch { 'K' => 10, 'M' => 20, _ => 30 };
                value = value[..^suffix.Length];
                break;
            }
        }
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number) || number > (long.MaxValue >> multiplierShift))
        {
            return null;
        }
        return number << multiplierShift;
    }

    private const string SizeSyntax = " Bytes, or a number with K, M or G (binary units).";

    /// <summary>The size in the option's token; null (and no error) when the option has no token.</summary>
    private static long? ParseSizeToken(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }
        string token = result.Tokens[0].Value;
        if (ParseSize(token) is { } size)
        {
            return size;
        }
        result.AddError($"'{token}' is not a size: use bytes (e.g. 4096) or a number with K, M or G (e.g. 64M).");
        return null;
    }
}
