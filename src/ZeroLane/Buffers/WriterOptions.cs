namespace ZeroLane.Buffers;

/// <summary>How a writer connects to a buffer.</summary>
public sealed record WriterOptions
{
    /// <summary>How the writer waits for space. Default <see cref="WaitStrategy.SpinThenBlock"/>.</summary>
    public WaitStrategy WaitStrategy { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>How often a waiting writer checks whether the reader still lives: the dead-reader detection time. Default 100 ms.</summary>
    public TimeSpan PeerCheckInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
