using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ZeroLane.Bench;

/// <summary>
/// What "the receiver touches the frame" means in every bench: it reads one 8-byte word at the start of
/// each 4 KiB stretch of the frame and the frame's last 8 bytes, and sums them. Every page the frame spans
/// is read (so a zero-copy reader really pulls the data's cache lines and pages in) without copying the
/// frame, which would measure the reader's own memcpy rather than the transport.
/// </summary>
internal static class FrameToucher
{
    /// <summary>Distance between touched words: one per page.</summary>
    internal const int Stride = 4096;

    /// <summary>Sums the touched words; callers accumulate the result so the reads cannot be optimised away.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Touch(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < sizeof(ulong))
        {
            return frame.IsEmpty ? 0UL : frame[0];
        }
        ref byte start = ref MemoryMarshal.GetReference(frame);
        int lastWord = frame.Length - sizeof(ulong);
        ulong sum = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, lastWord));
        for (int offset = 0; offset < lastWord; offset += Stride)
        {
            sum += Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));
        }
        return sum;
    }

    /// <summary>Fills a source frame with a non-zero pattern, so its pages are real and the data is not all zeros.</summary>
    internal static void FillPattern(Span<byte> frame)
    {
        for (int i = 0; i < frame.Length; i++)
        {
            frame[i] = (byte)(i * 31 + 7);
        }
    }
}
