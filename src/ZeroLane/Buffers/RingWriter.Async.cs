using System.Buffers;
using System.Runtime.CompilerServices;
using ZeroLane.Ipc;

namespace ZeroLane.Buffers;

public sealed partial class RingWriter
{
    private readonly AsyncSemaphoreWait _asyncWait;
    private int _asyncBusy;

    // Where WaitForSpaceAsync placed the frame (async methods have no out parameters).
    private long _asyncPosition;
    private long _asyncWrapFrom;

    /// <summary>Asynchronous waits started so far (a test's signal that a write is waiting).</summary>
    internal long AsyncWaitsStarted => _asyncWait.WaitsStarted;

    /// <summary>Writes one frame, copying <paramref name="data"/> in; waits for space without blocking a thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        ThrowForStatus(await TryWriteAsync(data, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false), Timeout.InfiniteTimeSpan);

    /// <summary>
    /// Writes one frame if space frees up within <paramref name="timeout"/>. Completes synchronously, without allocating,
    /// when there is space; otherwise sleeps in the process's shared wait threads (never spinning, whatever the wait
    /// strategy). The caller must not change <paramref name="data"/> until the task completes.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another asynchronous operation is in progress, or a loan is open.</exception>
    public ValueTask<WriteStatus> TryWriteAsync(ReadOnlyMemory<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnterAsync();
        bool started = false;
        try
        {
            WriteStatus status = TryWrite(data.Span, TimeSpan.Zero, CancellationToken.None);
            if (status != WriteStatus.TimedOut || timeout == TimeSpan.Zero)
            {
                return new ValueTask<WriteStatus>(status);
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<WriteStatus>(cancellationToken);
            }
            started = true;
            return WriteWhenPlacedAsync(data, timeout, cancellationToken);
        }
        finally
        {
            if (!started)
            {
                ExitAsync();
            }
        }
    }

    /// <summary>Writes one frame gathered from <paramref name="data"/>; waits for space without blocking a thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken = default) =>
        ThrowForStatus(await TryWriteAsync(data, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false), Timeout.InfiniteTimeSpan);

    /// <summary>Writes one frame gathered from <paramref name="data"/> if space frees up within <paramref name="timeout"/>.</summary>
    /// <exception cref="InvalidOperationException">Another asynchronous operation is in progress, or a loan is open.</exception>
    public ValueTask<WriteStatus> TryWriteAsync(ReadOnlySequence<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnterAsync();
        bool started = false;
        try
        {
            WriteStatus status = TryWrite(data, TimeSpan.Zero, CancellationToken.None);
            if (status != WriteStatus.TimedOut || timeout == TimeSpan.Zero)
            {
                return new ValueTask<WriteStatus>(status);
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<WriteStatus>(cancellationToken);
            }
            started = true;
            return WriteWhenPlacedAsync(data, timeout, cancellationToken);
        }
        finally
        {
            if (!started)
            {
                ExitAsync();
            }
        }
    }

    /// <summary>Loans space for one frame, waiting without blocking a thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameLoan> LoanAsync(int maxLength, CancellationToken cancellationToken = default)
    {
        LoanResult result = await TryLoanAsync(maxLength, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        ThrowForStatus(result.Status, Timeout.InfiniteTimeSpan);
        return result.Loan;
    }

    /// <summary>
    /// Loans space for one frame of up to <paramref name="maxLength"/> bytes if it frees up within <paramref name="timeout"/>,
    /// waiting without blocking a thread. Completes synchronously, without allocating, when there is space.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another asynchronous operation is in progress, or a loan is open.</exception>
    /// <exception cref="FrameTooLargeException">The loan can never fit in this buffer.</exception>
    public ValueTask<LoanResult> TryLoanAsync(int maxLength, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnterAsync();
        bool started = false;
        try
        {
            WriteStatus status = TryLoan(maxLength, out FrameLoan loan, TimeSpan.Zero, CancellationToken.None);
            if (status != WriteStatus.TimedOut || timeout == TimeSpan.Zero)
            {
                return new ValueTask<LoanResult>(new LoanResult(status, loan));
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<LoanResult>(cancellationToken);
            }
            started = true;
            return LoanWhenPlacedAsync(maxLength, timeout, cancellationToken);
        }
        finally
        {
            if (!started)
            {
                ExitAsync();
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WriteStatus> WriteWhenPlacedAsync(ReadOnlyMemory<byte> data, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            WriteStatus status = await WaitForSpaceAsync(FrameHeaderLayout.Size + (long)data.Length, loan: false, timeout, cancellationToken).ConfigureAwait(false);
            if (status == WriteStatus.Success)
            {
                ThrowIfLoanOpen();
                data.Span.CopyTo(_region.GetSpan(_payloadOffset + _asyncPosition + FrameHeaderLayout.Size, data.Length));
                Publish(_asyncPosition, _asyncWrapFrom, data.Length);
            }
            return status;
        }
        finally
        {
            ExitAsync();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WriteStatus> WriteWhenPlacedAsync(ReadOnlySequence<byte> data, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            int length = (int)data.Length;
            WriteStatus status = await WaitForSpaceAsync(FrameHeaderLayout.Size + (long)length, loan: false, timeout, cancellationToken).ConfigureAwait(false);
            if (status == WriteStatus.Success)
            {
                ThrowIfLoanOpen();
                CopyInto(_asyncPosition, data, length);
                Publish(_asyncPosition, _asyncWrapFrom, length);
            }
            return status;
        }
        finally
        {
            ExitAsync();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LoanResult> LoanWhenPlacedAsync(int maxLength, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            WriteStatus status = await WaitForSpaceAsync(FrameHeaderLayout.Size + (long)maxLength, loan: true, timeout, cancellationToken).ConfigureAwait(false);
            if (status != WriteStatus.Success)
            {
                return new LoanResult(status, default);
            }
            ThrowIfLoanOpen();
            _loanWrapFrom = _asyncWrapFrom;
            return new LoanResult(WriteStatus.Success, _loans.Open(_payloadOffset + _asyncPosition + FrameHeaderLayout.Size, maxLength));
        }
        finally
        {
            ExitAsync();
        }
    }

    /// <summary>
    /// The asynchronous counterpart of <see cref="WaitForSpace"/> (entered after a placement attempt found no room): drain,
    /// look again, sleep until the reader posts, repeat. On success the placement is in <see cref="_asyncPosition"/> and
    /// <see cref="_asyncWrapFrom"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WriteStatus> WaitForSpaceAsync(long total, bool loan, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Counted, so that Dispose on another thread wakes this wait and lets it leave before it unmaps.
        Interlocked.Increment(ref _activeWaits);
        try
        {
            var schedule = new WaitSchedule(timeout, _options.PeerCheckInterval);
            bool drained = false;
            while (true)
            {
                if (TryPlaceNow(total, loan, out long position, out long wrapFrom))
                {
                    _asyncPosition = position;
                    _asyncWrapFrom = wrapFrom;
                    return WriteStatus.Success;
                }
                if (IsReaderGone(schedule.PeerCheckDue()))
                {
                    return WriteStatus.ReaderGone;
                }
                if (schedule.Expired)
                {
                    _oieb.ThrowIfLostPages(Name);
                    return WriteStatus.TimedOut;
                }
                if (!drained)
                {
                    // As in Waiter: clear stale units, look once more, and only then sleep.
                    _readSemaphore.Drain();
                    Interlocked.MemoryBarrier();
                    drained = true;
                    continue;
                }
                if (await _asyncWait.WaitAsync(_readSemaphore, schedule.NextWake, cancellationToken).ConfigureAwait(false))
                {
                    // Posted: free space is loaded again after this fence (see Waiter), then drained before the next sleep.
                    Interlocked.MemoryBarrier();
                    drained = false;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _activeWaits);
        }
    }

    /// <summary>Takes the one asynchronous slot: a writer runs one asynchronous operation at a time.</summary>
    private void EnterAsync()
    {
        ThrowIfDisposed();
        if (Interlocked.Exchange(ref _asyncBusy, 1) != 0)
        {
            throw new InvalidOperationException("Another asynchronous operation is already in progress; a reader or writer runs one at a time.");
        }
    }

    private void ExitAsync() => Volatile.Write(ref _asyncBusy, 0);
}
