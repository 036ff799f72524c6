namespace ZeroLane.Buffers;

/// <summary>How a writer connects to a buffer.</summary>
public sealed record WriterOptions
{
    /// <summary>How the writer waits for space. Default <see cref="WaitStrategy.SpinThenBlock"/>.</summary>
    public WaitStrategy WaitStrategy { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>
    /// How often a waiting writer checks whether the reader still lives: the dead-reader detection time. Also how often
    /// <see cref="RingWriter.Connect(string, TimeSpan, WriterOptions?, CancellationToken)"/> and its other forms look for the
    /// buffer when no /dev/shm event arrives. Default 100 ms.
    /// </summary>
    public TimeSpan PeerCheckInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
