namespace ZeroLane;

/// <summary>The outcome of a read that may expectedly fail.</summary>
public enum ReadStatus
{
    /// <summary>A frame was read.</summary>
    Success = 0,

    /// <summary>No frame arrived before the timeout.</summary>
    TimedOut = 1,

    /// <summary>
    /// The writer disconnected and every frame it committed has been read; also for a ZeroLane writer that connected and
    /// left without writing a frame. Reported once per writer; the next read waits for the next writer.
    /// </summary>
    WriterDisconnected = 2,

    /// <summary>The writer died without disconnecting and every frame it committed has been read.</summary>
    WriterDied = 3,
}

/// <summary>The outcome of a write or loan that may expectedly fail.</summary>
public enum WriteStatus
{
    /// <summary>The frame was written (or the loan granted).</summary>
    Success = 0,

    /// <summary>No space became free before the timeout.</summary>
    TimedOut = 1,

    /// <summary>The reader is gone (died or disposed the buffer); nothing more can be delivered.</summary>
    ReaderGone = 2,
}

/// <summary>A frame, or why there is none: the result of <see cref="IFrameSource.TryReadAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Frame">The frame when <paramref name="Status"/> is <see cref="ReadStatus.Success"/>; default otherwise.</param>
public readonly record struct ReadResult(ReadStatus Status, Frame Frame);

/// <summary>A loan, or why there is none: the result of <see cref="IFrameSink.TryLoanAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Loan">The loan when <paramref name="Status"/> is <see cref="WriteStatus.Success"/>; default otherwise.</param>
public readonly record struct LoanResult(WriteStatus Status, FrameLoan Loan);
