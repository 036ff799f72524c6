using ZeroLane.Ipc;
using ZeroLane.Topics;

namespace ZeroLane.Nats;

/// <summary>
/// Which topics a gateway carries (<c>zerolane gateway --topic PATTERN</c>): a topic name whose '.'-separated tokens may
/// be <c>*</c> (exactly one token) or, last, <c>&gt;</c> (one or more tokens), as in NATS subjects, so the same pattern
/// selects local topics and, behind <see cref="NatsSubjects.Prefix"/>, the NATS subjects that carry them (PROTOCOL.md 16.1).
/// </summary>
public sealed class TopicPattern
{
    private readonly string[] _tokens;

    private TopicPattern(string text, string[] tokens)
    {
        Text = text;
        _tokens = tokens;
        Subject = NatsSubjects.Prefix + text;
    }

    /// <summary>The pattern as given, e.g. <c>camera.*.frames</c>.</summary>
    public string Text { get; }

    /// <summary>The NATS subject to subscribe to for every topic the pattern matches: <c>zerolane.</c> + <see cref="Text"/>.</summary>
    public string Subject { get; }

    /// <summary>Parses a pattern.</summary>
    /// <exception cref="ArgumentException">
    /// The pattern has an empty token, a token mixing a wildcard with other characters, a <c>&gt;</c> before the end, or
    /// a character not allowed in topic names; the message says which and what to write instead.
    /// </exception>
    public static TopicPattern Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        string[] tokens = pattern.Split('.');
        for (int i = 0; i < tokens.Length; i++)
        {
            string token = tokens[i];
            if (token.Length == 0)
            {
                throw new ArgumentException(
                    $"Topic pattern '{pattern}' has an empty token (a leading, trailing or doubled '.'); write tokens separated by single dots, e.g. 'camera.*'.",
                    nameof(pattern));
            }
            if (token == ">" && i != tokens.Length - 1)
            {
                throw new ArgumentException($"Topic pattern '{pattern}' has '>' before its last token; '>' matches the rest of a name, so it comes last.", nameof(pattern));
            }
            if (token is "*" or ">")
            {
                continue;
            }
            if (token.Contains('*') || token.Contains('>') || !ObjectNames.IsValid(token))
            {
                throw new ArgumentException(
                    $"Topic pattern '{pattern}': token '{token}' is neither a wildcard ('*' alone, or '>' alone at the end) nor made of the " +
                    "characters topic names use (letters, digits, '_' and '-').", nameof(pattern));
            }
        }
        if (pattern.Length > ObjectNames.MaxLength)
        {
            throw new ArgumentException($"Topic pattern '{pattern}' is {pattern.Length} characters long; a topic name has at most {ObjectNames.MaxLength}.", nameof(pattern));
        }
        return new TopicPattern(pattern, tokens);
    }

    /// <summary>True if topic <paramref name="topic"/> is one the pattern selects.</summary>
    public bool Matches(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!ObjectNames.IsValid(topic))
        {
            return false;
        }
        string[] names = topic.Split('.');
        for (int i = 0; i < _tokens.Length; i++)
        {
            if (_tokens[i] == ">")
            {
                return names.Length > i;
            }
            if (i >= names.Length || names[i].Length == 0 || (_tokens[i] != "*" && _tokens[i] != names[i]))
            {
                return false;
            }
        }
        return names.Length == _tokens.Length;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
