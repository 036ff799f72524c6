using System.Buffers;
using System.Runtime.CompilerServices;
using ZeroLane.Ipc;

namespace ZeroLane.Buffers;

public sealed partial class RingWriter
{
    private enum AsyncOperation
    {
        Write,
        WriteSequence,
        Loan,
    }

    private DedicatedWaiter<LoanResult>? _asyncWaiter;
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
        LoanResult result = await TryLoanAsync(maxLength, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        ThrowForStatus(result.Status, Timeout.InfiniteTimeSpan);
        return result.Loan;
    }

    /// <summary>
    /// Loans space for one frame of up to <paramref name="maxLength"/> bytes if it frees up within <paramref name="timeout"/>,
    /// waiting without blocking a thread-pool thread. Completes synchronously, without allocating, when there is space.
    /// </summary>
    /// <exception cref="InvalidOperationException">A loan is already open.</exception>
    /// <exception cref="FrameTooLargeException">The loan can never fit in this buffer.</exception>
    public ValueTask<LoanResult> TryLoanAsync(int maxLength, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReserveAsync();
        bool started = false;
        try
        {
            WriteStatus status = TryLoan(maxLength, out FrameLoan loan, TimeSpan.Zero, CancellationToken.None);
            if (status != WriteStatus.TimedOut || timeout == TimeSpan.Zero)
            {
                return new ValueTask<LoanResult>(new LoanResult(status, loan));
            }
            _asyncOperation = AsyncOperation.Loan;
            _asyncLength = maxLength;
            started = true;
            return StartLoanAsync(timeout, cancellationToken);
        }
        finally
        {
            if (!started)
            {
                _asyncWaiter!.Unreserve();
            }
        }
    }

    /// <summary>Takes the one async slot (throws if an async operation is pending) before anything else happens.</summary>
    private void ReserveAsync()
    {
        ThrowIfDisposed();
        _asyncWaiter ??= new DedicatedWaiter<LoanResult>(RunAsyncOperation, "ZeroLane writer " + Name);
        _asyncWaiter.Reserve();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WriteStatus> StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        LoanResult result = await StartLoanAsync(timeout, cancellationToken).ConfigureAwait(false);
        return result.Status;
    }

    private ValueTask<LoanResult> StartLoanAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            _asyncWaiter!.Unreserve();
            return ValueTask.FromCanceled<LoanResult>(cancellationToken);
        }
        _asyncTimeout = timeout;
        _asyncToken = cancellationToken;
        return _asyncWaiter!.Start();
    }

    private LoanResult RunAsyncOperation()
    {
        try
        {
            switch (_asyncOperation)
            {
                case AsyncOperation.Write:
                    return new LoanResult(TryWrite(_asyncData.Span, _asyncTimeout, _asyncToken), default);
                case AsyncOperation.WriteSequence:
                    return new LoanResult(TryWrite(_asyncSequence, _asyncTimeout, _asyncToken), default);
                default:
                    WriteStatus status = TryLoan(_asyncLength, out FrameLoan loan, _asyncTimeout, _asyncToken);
                    return new LoanResult(status, loan);
            }
        }
        finally
        {
            _asyncData = default;
            _asyncSequence = default;
        }
    }
}
