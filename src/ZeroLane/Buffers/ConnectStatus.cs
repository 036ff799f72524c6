namespace ZeroLane.Buffers;

/// <summary>How a writer's wait for its buffer ended: the result of <see cref="RingWriter.TryConnect"/>.</summary>
public enum ConnectStatus
{
    /// <summary>The buffer appeared (or was there) and the writer is connected.</summary>
    Success = 0,

    /// <summary>No live reader created the buffer before the timeout.</summary>
    TimedOut = 1,
}
