using System.Buffers.Binary;

namespace ZeroLane.Tests.Messages.Framing;

/// <summary>
/// Writes the bytes after a prefix field by field, so a test can make any of them lie: part count, flags,
/// body length, each part length, and how many bytes of payload actually follow.
/// </summary>
internal static class HandMadeFrame
{
    /// <summary>Header (part count, flags, body length, part lengths) followed by <paramref name="payloadBytes"/> zero bytes.</summary>
    internal static byte[] Build(uint partCount, uint flags, ulong bodyLength, ulong[] partLengths, int payloadBytes)
    {
        var frame = new byte[16 + 8 * partLengths.Length + payloadBytes];
        BinaryPrimitives.WriteUInt32BigEndian(frame, partCount);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(8), bodyLength);
        for (int i = 0; i < partLengths.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(16 + 8 * i), partLengths[i]);
        }
        return frame;
    }

    /// <summary>An honest frame: the declared lengths match the payload.</summary>
    internal static byte[] Honest(ulong bodyLength, params ulong[] partLengths)
    {
        ulong payload = bodyLength;
        foreach (ulong length in partLengths)
        {
            payload += length;
        }
        return Build((uint)partLengths.Length, 0, bodyLength, partLengths, (int)payload);
    }

    /// <summary>An 8-byte big-endian prefix announcing <paramref name="length"/>.</summary>
    internal static byte[] Prefix(ulong length)
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(prefix, length);
        return prefix;
    }
}
