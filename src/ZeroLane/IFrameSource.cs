namespace ZeroLane;

/// <summary>
/// Where frames are read in place from shared memory: a ring's <see cref="Buffers.RingReader"/> today, and every later
/// shared-memory transport. Messages (<see cref="Messages.FrameMessages"/>) are read from any frame source.
/// </summary>
/// <remarks>One reader thread at a time; frames may be released from any thread.</remarks>
public interface IFrameSource
{
    /// <summary>The name of what the frames come from (a buffer's name), for messages.</summary>
    string Name { get; }

    /// <summary>
    /// Reads the next frame if one arrives within <paramref name="timeout"/>; expected failures (timeout, writer gone) are
    /// returned, not thrown. On success, dispose <paramref name="frame"/> to release it.
    /// </summary>
    ReadStatus TryRead(out Frame frame, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="TryRead"/>, without blocking a thread while it waits.</summary>
    ValueTask<ReadResult> TryReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default);
}
