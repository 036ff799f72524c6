using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ZeroLane.Bench;

/// <summary>
/// The machine's single-thread copy bandwidth: <see cref="Span{T}.CopyTo(Span{T})"/> (which is memmove)
/// of a 256 MiB buffer, far larger than the last-level cache, repeated. Bytes per second counts the bytes
/// copied (each is read once and written once). This is what a copy-in writer is bounded by.
/// </summary>
internal static class MemoryCopyBench
{
    internal const int BufferBytes = 256 << 20;

    internal static BenchResult Run(double warmupSeconds, double seconds)
    {
        byte[] source = GC.AllocateUninitializedArray<byte>(BufferBytes);
        byte[] destination = GC.AllocateUninitializedArray<byte>(BufferBytes);
        // Fault every page in before timing anything.
        source.AsSpan().Fill(0x5A);
        destination.AsSpan().Fill(0xA5);

        CopyFor(source, destination, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(warmupSeconds));
        long started = Stopwatch.GetTimestamp();
        long copies = CopyFor(source, destination, started + PeerChannel.SecondsToTicks(seconds));
        double elapsed = (Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency;

        return new BenchResult
        {
            Transport = BenchResult.MemoryCopy,
            Mode = BenchResult.Throughput,
            FrameBytes = BufferBytes,
            FramesPerSec = copies / elapsed,
            BytesPerSec = copies * (double)BufferBytes / elapsed,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long CopyFor(byte[] source, byte[] destination, long deadline)
    {
        long copies = 0;
        do
        {
            source.AsSpan().CopyTo(destination);
            copies++;
        }
        while (Stopwatch.GetTimestamp() < deadline);
        return copies;
    }
}
