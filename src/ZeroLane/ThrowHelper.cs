using System.Diagnostics.CodeAnalysis;

namespace ZeroLane;

/// <summary>Throws on behalf of hot paths, keeping them small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    internal static void ThrowObjectDisposed(string type) =>
        throw new ObjectDisposedException(type);

    [DoesNotReturn]
    internal static void ThrowFrameReleased() =>
        throw new ObjectDisposedException("Frame", "The frame has been released; its bytes may already hold a later frame. Copy what you need before releasing it.");

    // Tiny, so the JIT sees it never returns (hot paths call it).
    [DoesNotReturn]
    internal static void ThrowSegmentLost(string name) => throw SegmentLost(name);

    private static BufferCorruptedException SegmentLost(string name) =>
        new(
            $"Buffer '{name}' lost its shared memory: another process truncated /dev/shm/{name} (or /dev/shm ran out of space) while it " +
            "was mapped, so its pages now read as zeros. The ring cannot continue; dispose this end and have the reader create the buffer again.");

    [DoesNotReturn]
    internal static void ThrowCorrupted(string name, string what) =>
        throw new BufferCorruptedException($"Buffer '{name}' is corrupted: {what}. The ring cannot continue; dispose the reader and recreate the buffer.");
}
