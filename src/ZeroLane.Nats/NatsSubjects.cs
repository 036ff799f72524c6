using ZeroLane.Ipc;
using ZeroLane.Topics;

namespace ZeroLane.Nats;

/// <summary>
/// How a topic's name becomes the NATS subject its samples travel on, and back (PROTOCOL.md 16.1): topic T is subject
/// <c>zerolane.T</c>, so the '.' of a topic name separates NATS tokens and a pattern like <c>camera.*</c> selects topics
/// on NATS as it does locally.
/// </summary>
public static class NatsSubjects
{
    /// <summary>The first token of every subject a gateway uses, with its separator.</summary>
    public const string Prefix = "zerolane.";

    /// <summary>The subject of topic <paramref name="topic"/>.</summary>
    /// <exception cref="InvalidNameException">The name is not a valid topic name.</exception>
    /// <exception cref="ArgumentException">The name is a valid topic but has an empty token (".." or a final '.'), which a
    /// NATS subject cannot have: rename the topic to carry it across hosts.</exception>
    public static string ForTopic(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ObjectNames.Validate(topic, TopicNames.Kind);
        if (HasEmptyToken(topic))
        {
            throw new ArgumentException(
                $"Topic '{topic}' cannot be carried over NATS: '.' separates the tokens of a NATS subject, and this name has an empty " +
                "token ('..' or a final '.'). Rename the topic, e.g. with '_' or '-' in place of the extra dots.", nameof(topic));
        }
        return Prefix + topic;
    }

    /// <summary>True if <paramref name="subject"/> is a gateway subject; <paramref name="topic"/> is then its topic's name.</summary>
    public static bool TryGetTopic(string subject, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? topic)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.StartsWith(Prefix, StringComparison.Ordinal))
        {
            string name = subject[Prefix.Length..];
            if (ObjectNames.IsValid(name) && !HasEmptyToken(name))
            {
                topic = name;
                return true;
            }
        }
        topic = null;
        return false;
    }

    /// <summary>A valid topic name has no leading '.', but may have '..' or a final '.', which NATS refuses.</summary>
    private static bool HasEmptyToken(string name) => name.Contains("..", StringComparison.Ordinal) || name.EndsWith('.');
}
