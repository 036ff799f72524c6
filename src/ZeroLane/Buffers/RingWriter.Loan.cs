namespace ZeroLane.Buffers;

public sealed partial class RingWriter
{
    // Where the open loan's frame goes behind a wrap (the wrap position), or -1; set when the loan is granted.
    private long _loanWrapFrom;

    /// <summary>Loans space for one frame of up to <paramref name="maxLength"/> bytes, waiting as long as it takes.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    public FrameLoan Loan(int maxLength, CancellationToken cancellationToken = default) =>
        Loan(maxLength, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Loans space for one frame of up to <paramref name="maxLength"/> bytes, waiting at most <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    public FrameLoan Loan(int maxLength, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryLoan(maxLength, out FrameLoan loan, timeout, cancellationToken);
        ThrowForStatus(status, timeout);
        return loan;
    }

    /// <summary>Loans space for one frame of up to <paramref name="maxLength"/> bytes if it frees up within <paramref name="timeout"/>.</summary>
    /// <exception cref="InvalidOperationException">A loan is already open.</exception>
    /// <exception cref="FrameTooLargeException">The loan can never fit in this buffer.</exception>
    public WriteStatus TryLoan(int maxLength, out FrameLoan loan, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        long total = CheckFrameLength(maxLength, loan: true);
        WriteStatus status = Reserve(total, loan: true, timeout, cancellationToken, out long position, out long wrapFrom);
        if (status != WriteStatus.Success)
        {
            loan = default;
            return status;
        }
        _loanWrapFrom = wrapFrom;
        loan = _loans.Open(_payloadOffset + position + FrameHeaderLayout.Size, maxLength);
        return WriteStatus.Success;
    }

    private void ThrowIfLoanOpen()
    {
        if (_loans.IsOpen)
        {
            throw new InvalidOperationException(
                $"A loan is open on buffer '{Name}': commit or abandon it before writing or loaning again (frames are written in order).");
        }
    }

    /// <summary>Publishes a committed loan; a loan of the whole block is the one that can be committed short into a tail too short for a header.</summary>
    void Ipc.ILoanPublisher.PublishLoan(long offset, int length)
    {
        long remainder = _payloadSize - (offset - _payloadOffset + length);
        if (remainder is > 0 and < FrameHeaderLayout.Size)
        {
            // Only a loan of the whole block can get here (any other loan keeps a header's room after it).
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Committing {length} bytes of a loan of the whole block would leave a tail of {remainder} bytes, too short for a " +
                $"header. Commit at most {_payloadSize - 2 * FrameHeaderLayout.Size} bytes or exactly {_payloadSize - FrameHeaderLayout.Size}; the loan stays open.");
        }
        Publish(offset - _payloadOffset - FrameHeaderLayout.Size, _loanWrapFrom, length);
    }
}
