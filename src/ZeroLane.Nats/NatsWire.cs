using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ZeroLane.Nats;

/// <summary>
/// The NATS headers ZeroLane puts on every sample or frame it carries (PROTOCOL.md 16.2). Numbers are fixed-width
/// lower-case hexadecimal so a sender rewrites the same header strings in place for every sample instead of allocating
/// new ones; a receiver parses the raw header block without building a dictionary.
/// </summary>
internal static class NatsWire
{
    /// <summary>Protocol version, "1". A message without it is a plain NATS message from a foreign publisher.</summary>
    internal const string Version = "Zl-V";

    /// <summary>The sending gateway's (or bridge's) ID, 16 hex digits, random per start, never 0.</summary>
    internal const string Gateway = "Zl-Gw";

    /// <summary>The origin publisher's ID on its host (a ring bridge: 0), 16 hex digits.</summary>
    internal const string Publisher = "Zl-Pub";

    /// <summary>The origin's sequence number of the sample or frame, 16 hex digits.</summary>
    internal const string Sequence = "Zl-Seq";

    /// <summary>When the origin published it: nanoseconds since 1970 UTC, 16 hex digits.</summary>
    internal const string Timestamp = "Zl-Ts";

    /// <summary>Bytes of the whole payload, every chunk together, 16 hex digits.</summary>
    internal const string Length = "Zl-Len";

    /// <summary>On chunks only: "IIIIIIII/NNNNNNNN", this chunk's index and the chunk count, 8 hex digits each.</summary>
    internal const string Chunk = "Zl-Chunk";

    /// <summary>When the sample is an encoded message (section 7): "BODY,PART0,..." in decimal; the payload is then its body and parts.</summary>
    internal const string Parts = "Zl-Parts";

    /// <summary>
    /// On a ring bridge's control messages only (PROTOCOL.md 16.6): "meta" (the payload is the ring's metadata) or "end"
    /// (the near writer disconnected). A message without it is a sample or frame.
    /// </summary>
    internal const string Kind = "Zl-Kind";

    internal const string VersionValue = "1";

    /// <summary>Most parts a message may have for its body and parts to travel apart; a message with more travels whole.</summary>
    internal const int MaxParts = 64;

    /// <summary>Room kept in each NATS message for the header block: the fixed headers plus the parts list.</summary>
    internal const int HeaderRoom = 320;

    /// <summary>Smallest chunk a sender makes: a server whose max_payload leaves less is refused.</summary>
    internal const int MinChunk = 1024;

    /// <summary>Largest raw header block a receiver accepts (a longer one is not ours).</summary>
    internal const int MaxHeaderBlock = 4096;

    /// <summary>Bytes of the section-7 encoding in front of the body: prefix, part count, flags, body length.</summary>
    internal const int MessageFixedHeader = 24;

    /// <summary>A new sender ID (header Zl-Gw) for a gateway or ring bridge: random, never 0.</summary>
    internal static ulong NewSenderId()
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong id;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            id = BitConverter.ToUInt64(bytes);
        }
        while (id == 0);
        return id;
    }

    /// <summary>A new string of <paramref name="digits"/> zeros that belongs to its creator, to be rewritten by <see cref="WriteHex(string, ulong)"/>.</summary>
    internal static string NewHexField(int digits) => new('0', digits);

    /// <summary>
    /// Rewrites <paramref name="field"/>, a string from <see cref="NewHexField"/>, in place as <paramref name="value"/> in
    /// lower-case hex. NATS.Net takes header values as strings and copies them into its buffer while publishing; formatting
    /// a new string per sample would allocate, so each sender owns its value strings (never interned, never shared, never
    /// used as a key) and rewrites them between publishes.
    /// </summary>
    internal static void WriteHex(string field, ulong value) => WriteHex(Writable(field), value);

    /// <summary>Writes the chunk field "IIIIIIII/NNNNNNNN" in place.</summary>
    internal static void WriteChunk(string field, int index, int count)
    {
        Span<char> chars = Writable(field);
        WriteHex(chars[..8], (uint)index);
        chars[8] = '/';
        WriteHex(chars[9..], (uint)count);
    }

    /// <summary>The characters of a string this code owns (from <see cref="NewHexField"/>), to rewrite in place.</summary>
    private static Span<char> Writable(string field) => MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(field.AsSpan()), field.Length);

    /// <summary>Fills <paramref name="chars"/> with the low digits of <paramref name="value"/> in lower-case hex.</summary>
    private static void WriteHex(Span<char> chars, ulong value)
    {
        for (int i = chars.Length - 1; i >= 0; i--)
        {
            chars[i] = "0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    /// <summary>
    /// True if <paramref name="sample"/> is exactly one encoded message (PROTOCOL.md section 7) with at most
    /// <see cref="MaxParts"/> parts; <paramref name="headerLength"/> is then the bytes before its body (24 + 8 N).
    /// </summary>
    internal static bool IsMessage(ReadOnlySpan<byte> sample, out int headerLength, out int parts)
    {
        headerLength = 0;
        parts = 0;
        if (sample.Length < MessageFixedHeader)
        {
            return false;
        }
        ulong length = BinaryPrimitives.ReadUInt64BigEndian(sample);
        uint count = BinaryPrimitives.ReadUInt32BigEndian(sample[8..]);
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(sample[12..]);
        if (length != (ulong)sample.Length - 8 || flags != 0 || count > MaxParts)
        {
            return false;
        }
        int header = MessageFixedHeader + 8 * (int)count;
        if (header > sample.Length)
        {
            return false;
        }
        ulong total = BinaryPrimitives.ReadUInt64BigEndian(sample[16..]);
        for (int i = 0; i < count && total <= (ulong)sample.Length; i++)
        {
            total += BinaryPrimitives.ReadUInt64BigEndian(sample[(MessageFixedHeader + 8 * i)..]);
        }
        if (total != (ulong)(sample.Length - header))
        {
            return false;
        }
        headerLength = header;
        parts = (int)count;
        return true;
    }
}
