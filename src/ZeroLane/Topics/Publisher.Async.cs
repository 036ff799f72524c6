using System.Runtime.CompilerServices;
using ZeroLane.Ipc;

namespace ZeroLane.Topics;

public sealed partial class Publisher
{
    /// <summary>Loans a slot, waiting at most the acknowledge timeout without blocking a thread.</summary>
    /// <exception cref="TimeoutException">Every slot stayed held by subscribers for the acknowledge timeout.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameLoan> LoanAsync(int maxLength, CancellationToken cancellationToken = default)
    {
        LoanResult result = await TryLoanAsync(maxLength, _options.AcknowledgeTimeout, cancellationToken).ConfigureAwait(false);
        ThrowForStatus(result.Status, _options.AcknowledgeTimeout);
        return result.Loan;
    }

    /// <summary>
    /// Loans a slot for a sample of up to <paramref name="maxLength"/> bytes if one is free or frees up within
    /// <paramref name="timeout"/>, without blocking a thread; completes synchronously, without allocating, when one is free.
    /// </summary>
    /// <exception cref="InvalidOperationException">A loan is already open, or another asynchronous operation is in progress.</exception>
    public ValueTask<LoanResult> TryLoanAsync(int maxLength, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        CheckLength(maxLength);
        if (TryGetSlot(out int slot))
        {
            return new ValueTask<LoanResult>(new LoanResult(WriteStatus.Success, OpenLoan(slot, maxLength)));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LoanResult>(cancellationToken);
        }
        if (Interlocked.Exchange(ref _asyncBusy, 1) != 0)
        {
            throw new InvalidOperationException("Another asynchronous operation is already in progress; a publisher runs one at a time.");
        }
        return LoanWhenFreeAsync(maxLength, timeout, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LoanResult> LoanWhenFreeAsync(int maxLength, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _activeWaits);
        try
        {
            var schedule = new WaitSchedule(timeout, _options.PeerCheckInterval);
            ReclaimDeparted(checkLiveness: true);
            bool drained = false;
            while (true)
            {
                if (TryGetSlot(out int slot))
                {
                    return new LoanResult(WriteStatus.Success, OpenLoan(slot, maxLength));
                }
                if (_disposed)
                {
                    ThrowHelper.ThrowObjectDisposed(nameof(Publisher));
                }
                if (schedule.PeerCheckDue())
                {
                    ReclaimDeparted(checkLiveness: true);
                }
                if (schedule.Expired)
                {
                    return new LoanResult(WriteStatus.TimedOut, default);
                }
                if (!drained)
                {
                    _slotReleased.Drain();
                    Interlocked.MemoryBarrier();
                    drained = true;
                    continue;
                }
                if (await _asyncWait.WaitAsync(_slotReleased, schedule.NextWake, cancellationToken).ConfigureAwait(false))
                {
                    Interlocked.MemoryBarrier();
                    drained = false;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _activeWaits);
            Volatile.Write(ref _asyncBusy, 0);
        }
    }
}
