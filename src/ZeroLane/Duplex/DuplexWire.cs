using System.Buffers.Binary;
using System.Text;
using ZeroLane.Buffers;

namespace ZeroLane.Duplex;

/// <summary>
/// The extended mode's response header (PROTOCOL.md 14.5): u64 request sequence, u32 status, u32 reserved (zero), in
/// front of the response bytes, or of the UTF-8 failure text when the status is <see cref="StatusFailed"/>.
/// </summary>
internal static class DuplexWire
{
    internal const int HeaderSize = 16;
    internal const uint StatusAnswer = 0;
    internal const uint StatusFailed = 1;

    /// <summary>The bit both rings of a channel carry when their creators speak the extended mode.</summary>
    internal const ReaderFlags ExtendedFlag = ReaderFlags.SpeaksExtendedDuplex;

    internal static void WriteHeader(Span<byte> destination, ulong requestSequence, uint status)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, requestSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], status);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0);
    }

    internal static (ulong RequestSequence, uint Status) ReadHeader(ReadOnlySpan<byte> frame) =>
        (BinaryPrimitives.ReadUInt64LittleEndian(frame), BinaryPrimitives.ReadUInt32LittleEndian(frame[8..]));

    /// <summary>"ExceptionType: message" as UTF-8, at most <paramref name="maxLength"/> bytes, cut at a character boundary.</summary>
    internal static byte[] FailureText(Exception error, int maxLength)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes($"{error.GetType().Name}: {error.Message}");
        int length = Math.Min(utf8.Length, Math.Max(0, maxLength));
        while (length > 0 && length < utf8.Length && (utf8[length] & 0xC0) == 0x80)
        {
            length--;
        }
        return length == utf8.Length ? utf8 : utf8.AsSpan(0, length).ToArray();
    }
}
