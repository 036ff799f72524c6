using System.Runtime.CompilerServices;

namespace ZeroLane.Messages.Codecs;

/// <summary>Shape checks shared by the codecs; they throw through a helper so the callers stay small and allocation-free.</summary>
internal static class CodecChecks
{
    /// <summary>Throws unless <paramref name="message"/> has <paramref name="expected"/> parts. The text is built only when throwing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ExpectPartCount(Message message, int expected, string codec, Type? valueType = null)
    {
        if (message.PartCount != expected)
        {
            ThrowPartCount(message.PartCount, expected, codec, valueType);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPartCount(int actual, int expected, string codec, Type? valueType)
    {
        string what = valueType is null ? codec : $"a {valueType.Name} ({codec})";
        throw new MessageCodecException($"A message of {actual} parts cannot be {what}, which has {expected}: the sender used another codec or another version of the type.");
    }
}
