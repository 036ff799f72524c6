namespace ZeroLane;

/// <summary>
/// Where frames are written in place into shared memory through loans: a ring's <see cref="Buffers.RingWriter"/> today,
/// and every later shared-memory transport. Messages (<see cref="Messages.FrameMessages"/>) are written to any frame sink.
/// </summary>
/// <remarks>One writer thread at a time, one open loan at a time.</remarks>
public interface IFrameSink
{
    /// <summary>The name of where the frames go (a buffer's name), for messages.</summary>
    string Name { get; }

    /// <summary>The largest frame this sink accepts, in bytes.</summary>
    int MaxFrameLength { get; }

    /// <summary>
    /// Loans space for one frame of up to <paramref name="maxLength"/> bytes if it frees up within <paramref name="timeout"/>;
    /// expected failures (timeout, reader gone) are returned, not thrown. Commit or abandon the loan before the next one.
    /// </summary>
    WriteStatus TryLoan(int maxLength, out FrameLoan loan, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="TryLoan"/>, without blocking a thread while it waits.</summary>
    ValueTask<LoanResult> TryLoanAsync(int maxLength, TimeSpan timeout, CancellationToken cancellationToken = default);
}
