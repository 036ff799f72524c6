using System.Buffers;
using System.Runtime.CompilerServices;

namespace ZeroLane.Buffers;

public sealed partial class RingWriter
{
    private enum AsyncOperation
    {
        Write,
        WriteSequence,
        Loan,
    }

    private DedicatedWaiter<(WriteStatus Status, FrameLoan Loan)>? _asyncWaiter;
    private AsyncOperation _asyncOperation;
    private ReadOnlyMemory<byte> _asyncData;
    private ReadOnlySequence<byte> _asyncSequence;
    private int _asyncLength;
    private TimeSpan _asyncTimeout;
    private CancellationToken _asyncToken;

    /// <summary>Writes one frame, copying <paramref name="data"/> in; waits for space without blocking a thread-pool thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        ThrowForStatus(await TryWriteAsync(data, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false), Timeout.InfiniteTimeSpan);

    /// <summary>
    /// Writes one frame if space frees up within <paramref name="timeout"/>. Completes synchronously, without
    /// allocating, when there is space; otherwise waits on a dedicated thread.
    /// The caller must not change <paramref name="data"/> until the task completes.
    /// </summary>
    public ValueTask<WriteStatus> TryWriteAsync(ReadOnlyMemory<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReserveAsync();
        bool started = false;
        try
        {
            WriteStatus status = TryWrite(data.Span, TimeSpan.Zero, CancellationToken.None);
            if (status != WriteStatus.TimedOut || timeout == TimeSpan.Zero)
            {
                return new ValueTask<WriteStatus>(status);
            }
            _asyncOperation = AsyncOperation.Write;
            _asyncData = data;
            started = true;
            return StartAsync(timeout, cancellationToken);
        }
        finally
        {
            if (!started)
            {
                _asyncWaiter!.Unreserve();
            }
        }
    }

    /// <summary>Writes one frame gathered from <paramref name="data"/>; waits for space without blocking a thread-pool thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken = default) =>
        ThrowForStatus(await TryWriteAsync(data, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false), Timeout.InfiniteTimeSpan);

    /// <summary>Writes one frame gathered from <paramref name="data"/> if space frees up within <paramref name="timeout"/>.</summary>
    public ValueTask<WriteStatus> TryWriteAsync(ReadOnlySequence<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReserveAsync();
        bool started = false;
        try
        {
            WriteStatus status = TryWrite(data, TimeSpan.Zero, CancellationToken.None);
            if (status != WriteStatus.TimedOut || timeout == TimeSpan.Zero)
            {
                return new ValueTask<WriteStatus>(status);
            }
            _asyncOperation = AsyncOperation.WriteSequence;
            _asyncSequence = data;
            started = true;
            return StartAsync(timeout, cancellationToken);
        }
        finally
        {
            if (!started)
            {
                _asyncWaiter!.Unreserve();
            }
        }
    }

    /// <summary>Loans space for one frame, waiting without blocking a thread-pool thread.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameLoan> LoanAsync(int maxLength, CancellationToken cancellationToken = default)
    {
        ReserveAsync();
        WriteStatus status;
        FrameLoan loan;
        try
        {
            status = TryLoan(maxLength, out loan, TimeSpan.Zero, CancellationToken.None);
        }
        catch
        {
            _asyncWaiter!.Unreserve();
            throw;
        }
        if (status == WriteStatus.TimedOut)
        {
            _asyncOperation = AsyncOperation.Loan;
            _asyncLength = maxLength;
            (status, loan) = await StartLoanAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            _asyncWaiter!.Unreserve();
        }
        ThrowForStatus(status, Timeout.InfiniteTimeSpan);
        return loan;
    }

    /// <summary>Takes the one async slot (throws if an async operation is pending) before anything else happens.</summary>
    private void ReserveAsync()
    {
        ThrowIfDisposed();
        _asyncWaiter ??= new DedicatedWaiter<(WriteStatus, FrameLoan)>(RunAsyncOperation, "ZeroLane writer " + Name);
        _asyncWaiter.Reserve();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WriteStatus> StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        (WriteStatus status, _) = await StartLoanAsync(timeout, cancellationToken).ConfigureAwait(false);
        return status;
    }

    private ValueTask<(WriteStatus Status, FrameLoan Loan)> StartLoanAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            _asyncWaiter!.Unreserve();
            return ValueTask.FromCanceled<(WriteStatus, FrameLoan)>(cancellationToken);
        }
        _asyncTimeout = timeout;
        _asyncToken = cancellationToken;
        return _asyncWaiter!.Start();
    }

    private (WriteStatus Status, FrameLoan Loan) RunAsyncOperation()
    {
        try
        {
            switch (_asyncOperation)
            {
                case AsyncOperation.Write:
                    return (TryWrite(_asyncData.Span, _asyncTimeout, _asyncToken), default);
                case AsyncOperation.WriteSequence:
                    return (TryWrite(_asyncSequence, _asyncTimeout, _asyncToken), default);
                default:
                    WriteStatus status = TryLoan(_asyncLength, out FrameLoan loan, _asyncTimeout, _asyncToken);
                    return (status, loan);
            }
        }
        finally
        {
            _asyncData = default;
            _asyncSequence = default;
        }
    }
}
