using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace ZeroLane.Cli.Demo;

/// <summary>
/// The content of a demo frame: an 8-byte send timestamp, then 64-bit words derived from the frame's
/// sequence number, cheap to generate and to check at memory speed.
/// </summary>
/// <remarks>
/// Design: word i (i >= 1, native byte order) holds <c>sequence * 0x9E3779B97F4A7C15 + i</c>. Every word of
/// every frame differs from the same word of any other frame, and from every other word of the same frame,
/// so stale bytes from an earlier lap of the ring, a frame delivered under the wrong sequence number, and
/// shifted or torn data all fail the check. The sequence a writer stamps is the one the ring will assign
/// (1, 2, 3, ...), so the reader needs nothing but the frame to verify it. Bytes after the last whole word
/// hold the low bytes of the word that would come next. Filling and checking are vectorized.
/// </remarks>
internal static class FramePattern
{
    /// <summary>Bytes at the start of a frame that hold the send timestamp.</summary>
    internal const int StampLength = sizeof(long);

    /// <summary>The shortest frame the demo sends: the stamp and one pattern word.</summary>
    internal const int MinimumFrameLength = StampLength + sizeof(ulong);

    private const ulong SeedMultiplier = 0x9E3779B97F4A7C15;

    /// <summary>Writes the pattern of frame <paramref name="sequence"/> after the stamp.</summary>
    internal static void Fill(Span<byte> frame, ulong sequence)
    {
        ulong seed = sequence * SeedMultiplier;
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(frame);
        int i = 1;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<ulong>.Count;
            var step = new Vector<ulong>((ulong)width);
            Vector<ulong> value = new Vector<ulong>(seed + 1) + Vector<ulong>.Indices;
            for (; i <= words.Length - width; i += width)
            {
                value.CopyTo(words[i..]);
                value += step;
            }
        }
        for (; i < words.Length; i++)
        {
            words[i] = seed + (ulong)i;
        }
        int tail = frame.Length % sizeof(ulong);
        if (tail > 0)
        {
            ulong next = seed + (ulong)words.Length;
            MemoryMarshal.AsBytes(new Span<ulong>(ref next))[..tail].CopyTo(frame[^tail..]);
        }
    }

    /// <summary>True if every byte after the stamp is the pattern of frame <paramref name="sequence"/>.</summary>
    internal static bool Verify(ReadOnlySpan<byte> frame, ulong sequence)
    {
        ulong seed = sequence * SeedMultiplier;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(frame);
        int i = 1;
        ulong difference = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int width = Vector<ulong>.Count;
            var step = new Vector<ulong>((ulong)width);
            Vector<ulong> value = new Vector<ulong>(seed + 1) + Vector<ulong>.Indices;
            Vector<ulong> differences = Vector<ulong>.Zero;
            for (; i <= words.Length - width; i += width)
            {
                differences |= new Vector<ulong>(words[i..]) ^ value;
                value += step;
            }
            difference = differences == Vector<ulong>.Zero ? 0UL : 1UL;
        }
        for (; i < words.Length; i++)
        {
            difference |= words[i] ^ (seed + (ulong)i);
        }
        int tail = frame.Length % sizeof(ulong);
        if (tail > 0)
        {
            ulong next = seed + (ulong)words.Length;
            if (!MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(ref next))[..tail].SequenceEqual(frame[^tail..]))
            {
                difference |= 1;
            }
        }
        return difference == 0;
    }

    /// <summary>Writes the send timestamp (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>) into the first 8 bytes.</summary>
    internal static void Stamp(Span<byte> frame, long timestamp) => BinaryPrimitives.WriteInt64LittleEndian(frame, timestamp);

    /// <summary>The send timestamp of a frame.</summary>
    internal static long ReadStamp(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadInt64LittleEndian(frame);
}
