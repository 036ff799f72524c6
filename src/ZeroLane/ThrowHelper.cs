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

    /// <summary>The exception for a read that did not succeed, from <paramref name="source"/> (a buffer's name).</summary>
    internal static Exception ReadFailed(ReadStatus status, string source, TimeSpan timeout) => status switch
    {
        ReadStatus.TimedOut => new TimeoutException($"No frame arrived in '{source}' within {Describe(timeout)}."),
        ReadStatus.WriterDisconnected => new WriterGoneException(
            $"The writer of '{source}' disconnected and every frame it wrote has been read.", crashed: false),
        ReadStatus.WriterDied => new WriterGoneException(
            $"The writer of '{source}' died without disconnecting; every frame it committed has been read. " +
            "A new writer may connect.", crashed: true),
        _ => new InvalidOperationException($"Unexpected read status {status}."),
    };

    /// <summary>The exception for a write or loan that did not succeed, into <paramref name="sink"/> (a buffer's name).</summary>
    internal static Exception WriteFailed(WriteStatus status, string sink, TimeSpan timeout) => status switch
    {
        WriteStatus.TimedOut => new TimeoutException(
            $"No space became free in '{sink}' within {Describe(timeout)}: the reader is not keeping up or holds its frames."),
        WriteStatus.ReaderGone => new ReaderGoneException(
            $"The reader of '{sink}' is gone (it died or disposed the buffer); frames can no longer be delivered."),
        _ => new InvalidOperationException($"Unexpected write status {status}."),
    };

    /// <summary>The exception for a writer whose buffer did not appear within <paramref name="timeout"/>; <paramref name="lastRefusal"/> is what the last attempt found.</summary>
    internal static TimeoutException ConnectTimedOut(string name, TimeSpan timeout, ZeroLaneException? lastRefusal) =>
        new($"No live reader created buffer '{name}' within {Describe(timeout)}. " +
            (lastRefusal?.Message ?? "A reader creates the buffer and the writer connects to it, so start the reader first."), lastRefusal);

    private static string Describe(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? "no time limit" : $"{timeout.TotalMilliseconds:0.###} ms";
}
