using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ZeroLane.TestPeer;

/// <summary>
/// The content of a test frame, derived from nothing but its sequence number and length, so that any
/// process can check any frame without state.
/// </summary>
/// <remarks>
/// Design: byte <c>i</c> of frame (sequence, length) is byte <c>i % 8</c> (little-endian) of
/// <c>Mix(seed + (i / 8) * K)</c>, where the seed mixes sequence and length; a counter-based generator, so
/// each 8-byte word is computed independently. Frames of 16 bytes or more then carry a header in place of
/// their first 16 pattern bytes: <c>[u64 sequence][u32 length][u32 checksum of bytes 16..]</c>. A torn
/// frame (some bytes of this frame, some left from an older one) fails the pattern comparison, and its
/// checksum too; a frame delivered under the wrong sequence number fails the embedded sequence.
/// </remarks>
public static class FramePattern
{
    /// <summary>Bytes of the embedded header in frames of at least this length.</summary>
    public const int HeaderLength = 16;

    private const ulong WordStep = 0xD1B54A32D192ED03UL;

    /// <summary>Fills <paramref name="frame"/> with the content of frame <paramref name="sequence"/> of its length.</summary>
    public static void Fill(Span<byte> frame, ulong sequence)
    {
        ulong seed = Seed(sequence, frame.Length);
        int fullWords = frame.Length / 8;
        for (int word = 0; word < fullWords; word++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(frame.Slice(word * 8, 8), Word(seed, word));
        }
        int tail = frame.Length - fullWords * 8;
        if (tail > 0)
        {
            ulong last = Word(seed, fullWords);
            for (int i = 0; i < tail; i++)
            {
                frame[fullWords * 8 + i] = (byte)(last >> (8 * i));
            }
        }
        if (frame.Length >= HeaderLength)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(frame, sequence);
            BinaryPrimitives.WriteUInt32LittleEndian(frame[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(frame[12..], Checksum(frame[HeaderLength..]));
        }
    }

    /// <summary>
    /// Checks that <paramref name="frame"/> is exactly frame <paramref name="sequence"/> of its length.
    /// Returns null if it is, or a description of the first problem found.
    /// </summary>
    public static string? Verify(ReadOnlySpan<byte> frame, ulong sequence)
    {
        if (frame.Length == 0)
        {
            return "the frame is empty";
        }
        ulong seed = Seed(sequence, frame.Length);
        int firstWord = 0;
        if (frame.Length >= HeaderLength)
        {
            ulong embeddedSequence = BinaryPrimitives.ReadUInt64LittleEndian(frame);
            uint embeddedLength = BinaryPrimitives.ReadUInt32LittleEndian(frame[8..]);
            uint embeddedChecksum = BinaryPrimitives.ReadUInt32LittleEndian(frame[12..]);
            if (embeddedSequence != sequence)
            {
                return $"embedded sequence is {embeddedSequence}, but the frame arrived as sequence {sequence}";
            }
            if (embeddedLength != (uint)frame.Length)
            {
                return $"embedded length is {embeddedLength}, but the frame is {frame.Length} bytes";
            }
            uint actualChecksum = Checksum(frame[HeaderLength..]);
            if (actualChecksum != embeddedChecksum)
            {
                return $"checksum of bytes {HeaderLength}..{frame.Length} is 0x{actualChecksum:X8}, the header says 0x{embeddedChecksum:X8}"
                    + $" ({DescribeFirstDifference(frame, seed, HeaderLength / 8)})";
            }
            firstWord = HeaderLength / 8;
        }
        return DescribeFirstDifference(frame, seed, firstWord) is { } difference && difference.Length > 0 ? difference : null;
    }

    /// <summary>A frame length in 1..<paramref name="maxLength"/> chosen pseudo-randomly by sequence: a quarter tiny, a quarter small, half anywhere.</summary>
    public static int VariedLength(ulong sequence, int maxLength)
    {
        ulong r = Mix(sequence * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL);
        long bound = (r & 3) switch
        {
            0 => Math.Min(16, maxLength),
            1 => Math.Min(1024, maxLength),
            _ => maxLength,
        };
        return 1 + (int)((r >> 2) % (ulong)bound);
    }

    /// <summary>Empty string if the bytes from word <paramref name="firstWord"/> on match the pattern; else where they differ.</summary>
    private static string DescribeFirstDifference(ReadOnlySpan<byte> frame, ulong seed, int firstWord)
    {
        int fullWords = frame.Length / 8;
        for (int word = firstWord; word < fullWords; word++)
        {
            ulong expected = Word(seed, word);
            ulong actual = BinaryPrimitives.ReadUInt64LittleEndian(frame.Slice(word * 8, 8));
            if (actual != expected)
            {
                return $"bytes {word * 8}..{word * 8 + 7} are 0x{actual:X16}, expected 0x{expected:X16}";
            }
        }
        int tail = frame.Length - fullWords * 8;
        if (tail > 0)
        {
            ulong last = Word(seed, fullWords);
            for (int i = 0; i < tail; i++)
            {
                int offset = fullWords * 8 + i;
                if (frame[offset] != (byte)(last >> (8 * i)))
                {
                    return $"byte {offset} is 0x{frame[offset]:X2}, expected 0x{(byte)(last >> (8 * i)):X2}";
                }
            }
        }
        return "";
    }

    /// <summary>FNV-1a over 8-byte words (and the trailing bytes), folded to 32 bits.</summary>
    private static uint Checksum(ReadOnlySpan<byte> data)
    {
        const ulong prime = 0x100000001B3UL;
        ulong hash = 0xCBF29CE484222325UL;
        int fullWords = data.Length / 8;
        for (int word = 0; word < fullWords; word++)
        {
            hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(word * 8, 8))) * prime;
        }
        for (int i = fullWords * 8; i < data.Length; i++)
        {
            hash = (hash ^ data[i]) * prime;
        }
        return (uint)(hash ^ (hash >> 32));
    }

    private static ulong Seed(ulong sequence, int length) => Mix((sequence * 0x9E3779B97F4A7C15UL) ^ (((ulong)(uint)length << 32) | 0x5A5AUL));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Word(ulong seed, int index) => Mix(seed + (ulong)index * WordStep);

    /// <summary>The splitmix64 finaliser.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
