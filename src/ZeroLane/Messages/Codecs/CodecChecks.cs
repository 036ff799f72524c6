using System.Runtime.CompilerServices;

namespace ZeroLane.Messages.Codecs;

/// <summary>Shape checks shared by the codecs; they throw through a helper so the callers stay small.</summary>
internal static class CodecChecks
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ExpectPartCount(Message message, int expected, string what)
    {
        if (message.PartCount != expected)
        {
            ThrowPartCount(message.PartCount, expected, what);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPartCount(int actual, int expected, string what) =>
        throw new MessageCodecException($"A message of {actual} parts cannot be {what}, which has {expected}: the sender used another codec or another version of the type.");
}
