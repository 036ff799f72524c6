using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>Messages whose body and parts follow <see cref="Patterns"/>, so a receiver can check every byte.</summary>
internal static class PatternedMessages
{
    /// <summary>Seed of part <paramref name="index"/> of the message with <paramref name="seed"/> (the body uses the seed itself).</summary>
    internal static ulong PartSeed(ulong seed, int index) => seed * 1000 + (ulong)index + 1;

    internal static Message Create(ulong seed, int bodyLength, params int[] partLengths)
    {
        byte[] body = Patterns.Create(bodyLength, seed);
        var parts = new ReadOnlyMemory<byte>[partLengths.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = Patterns.Create(partLengths[i], PartSeed(seed, i));
        }
        return Message.Create(body, parts);
    }

    internal static void AssertMatches(Message message, ulong seed, int bodyLength, params int[] partLengths)
    {
        Patterns.AssertMatches(message.Body.Span, bodyLength, seed);
        Assert.Equal(partLengths.Length, message.PartCount);
        for (int i = 0; i < partLengths.Length; i++)
        {
            Patterns.AssertMatches(message.GetPart(i).Span, partLengths[i], PartSeed(seed, i));
        }
    }
}
