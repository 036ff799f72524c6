using System.Threading.Tasks.Sources;

namespace ZeroLane.Ipc;

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
    private volatile bool _pending;
    private volatile bool _disposed;

    internal DedicatedWaiter(Func<TResult> operation, string threadName)
    {
        _operation = operation;
        _threadName = threadName;
    }

    /// <summary>
    /// Takes the one async slot before the owner tries synchronously or stores any argument, so a second
    /// call while one is pending is refused without disturbing it.
    /// </summary>
    /// <exception cref="InvalidOperationException">An asynchronous operation is already in progress.</exception>
    internal void Reserve()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("Another asynchronous operation is already in progress; a reader or writer runs one at a time.");
        }
        if (_disposed)
        {
            Volatile.Write(ref _busy, 0);
            throw new ObjectDisposedException(GetType().Name);
        }
    }

    /// <summary>Gives the slot back when the operation completed synchronously.</summary>
    internal void Unreserve() => Volatile.Write(ref _busy, 0);

    /// <summary>Starts the owner's operation (arguments already stored) on the dedicated thread; the slot must be reserved.</summary>
    internal ValueTask<TResult> Start()
    {
        _core.Reset();
        if (_thread is null)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = _threadName };
            _thread.Start();
        }
        _pending = true;
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
                if (_pending)
                {
                    // Started but never run: complete it rather than leave its caller waiting forever.
                    _pending = false;
                    _core.SetException(new ObjectDisposedException(_threadName, "Disposed before the operation could run."));
                }
                return;
            }
            _pending = false;
            try
            {
                TResult result = _operation();
                _core.SetResult(result);
            }
            catch (Exception exception)
            {
                _core.SetException(exception);
            }
        }
    }

    /// <summary>Stops the thread once the current operation (which the owner has woken) returns.</summary>
    internal void Dispose(TimeSpan wait)
    {
        _disposed = true;
        _request.Release();
        if (_thread is null || !_thread.Join(wait))
        {
            if (_pending)
            {
                _pending = false;
                _core.SetException(new ObjectDisposedException(_threadName, "Disposed before the operation could run."));
            }
        }
    }

    public void Dispose() => Dispose(TimeSpan.FromSeconds(5));

    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Free the slot only once the result is taken, so a new operation cannot reset the source first.
            Volatile.Write(ref _busy, 0);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
