using System.Threading.Tasks.Sources;

namespace ZeroLane.Buffers;

/// <summary>
/// Runs blocking waits on one dedicated thread per reader or writer, so that async callers never block a
/// thread-pool thread on a semaphore. The returned <see cref="ValueTask{TResult}"/> is backed by a reused
/// source: no allocation per operation.
/// </summary>
/// <remarks>
/// Design: a reader and a writer each have one consumer, so at most one async operation is in flight; a
/// second concurrent one is misuse and throws. The operation and its arguments live in the owner, which
/// sets them before calling <see cref="Start"/>. Continuations run on the thread pool, never on this thread.
/// </remarks>
internal sealed class DedicatedWaiter<TResult> : IValueTaskSource<TResult>, IDisposable
{
    private readonly Func<TResult> _operation;
    private readonly string _threadName;
    private readonly SemaphoreSlim _request = new(0);
    private ManualResetValueTaskSourceCore<TResult> _core = new() { RunContinuationsAsynchronously = true };
    private Thread? _thread;
    private int _busy;
    private volatile bool _disposed;

    internal DedicatedWaiter(Func<TResult> operation, string threadName)
    {
        _operation = operation;
        _threadName = threadName;
    }

    /// <summary>Starts the owner's operation on the dedicated thread.</summary>
    internal ValueTask<TResult> Start()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("Another asynchronous operation is already in progress; a reader or writer runs one at a time.");
        }
        ObjectDisposedException.ThrowIf(_disposed, this);
        _core.Reset();
        if (_thread is null)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = _threadName };
            _thread.Start();
        }
        _request.Release();
        return new ValueTask<TResult>(this, _core.Version);
    }

    private void Run()
    {
        while (true)
        {
            _request.Wait();
            if (_disposed)
            {
                return;
            }
            try
            {
                TResult result = _operation();
                Volatile.Write(ref _busy, 0);
                _core.SetResult(result);
            }
            catch (Exception exception)
            {
                Volatile.Write(ref _busy, 0);
                _core.SetException(exception);
            }
        }
    }

    /// <summary>True while an operation runs on the dedicated thread.</summary>
    internal bool IsBusy => Volatile.Read(ref _busy) != 0;

    /// <summary>Stops the thread once the current operation (which the owner has woken) returns.</summary>
    internal void Dispose(TimeSpan wait)
    {
        _disposed = true;
        _request.Release();
        _thread?.Join(wait);
    }

    public void Dispose() => Dispose(TimeSpan.FromSeconds(5));

    public TResult GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
