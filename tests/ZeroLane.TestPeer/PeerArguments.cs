using System.Globalization;

namespace ZeroLane.TestPeer;

/// <summary>The command line of a peer: a scenario, a buffer name, then <c>--option value</c> pairs and <c>--flag</c>s.</summary>
internal sealed class PeerArguments
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);

    private PeerArguments(string scenario, string name)
    {
        Scenario = scenario;
        Name = name;
    }

    internal string Scenario { get; }

    internal string Name { get; }

    /// <summary>Parses <c>SCENARIO NAME [--key value | --flag]...</c>; an option followed by another option (or nothing) is a flag.</summary>
    internal static PeerArguments Parse(string[] args)
    {
        if (args.Length < 2)
        {
            throw new UsageException("expected: SCENARIO NAME [options]");
        }
        var parsed = new PeerArguments(args[0], args[1]);
        for (int i = 2; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{args[i]}'");
            }
            string key = args[i][2..];
            string? value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            parsed._options[key] = value;
        }
        return parsed;
    }

    internal bool Has(string key) => _options.ContainsKey(key);

    internal string? Text(string key) => _options.TryGetValue(key, out string? value) ? value : null;

    internal long? Number(string key)
    {
        string? text = Text(key);
        if (text is null)
        {
            return Has(key) ? throw new UsageException($"--{key} needs a number") : null;
        }
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new UsageException($"--{key} '{text}' is not a number");
    }

    internal TEnum Enum<TEnum>(string key, TEnum fallback) where TEnum : struct, System.Enum
    {
        string? text = Text(key);
        return text is null ? fallback
            : System.Enum.TryParse(text, ignoreCase: true, out TEnum value) ? value
            : throw new UsageException($"--{key} '{text}' is not one of {string.Join(", ", System.Enum.GetNames<TEnum>())}");
    }
}

/// <summary>A command line the peer does not understand.</summary>
internal sealed class UsageException(string message) : Exception(message);
