using System.Diagnostics;
using System.Threading.Tasks.Sources;
using ZeroLane.Posix;

namespace ZeroLane.Ipc;

/// <summary>
/// One endpoint's asynchronous waits for a named semaphore to be posted, one at a time, each until a deadline: the
/// awaitable the async read and write loops of every shared-memory transport sleep on. Reused for every wait, so waiting
/// allocates nothing.
/// </summary>
/// <remarks>
/// Design: a wait does not take a unit; it ends as soon as the semaphore's value is above zero (or at the deadline, or on
/// cancellation), and the caller then looks at its shared counters again, exactly as the synchronous <see cref="Waiter"/>
/// does: the semaphore is only a wake-up hint, drained before each sleep. Where the kernel and glibc allow it, the wait
/// is handed to the process-wide <see cref="SemaphoreWaitHub"/>, whose few threads sleep on up to 127 semaphores each with
/// futex_waitv, so a thousand idle subscribers cost eight threads, not a thousand. Elsewhere the endpoint gets one thread of
/// its own that sleeps in sem_clockwait (the fallback; it takes the unit it was woken by, which is harmless for a hint).
/// Continuations never run on a waiting thread.
/// </remarks>
internal sealed class AsyncSemaphoreWait : IValueTaskSource<bool>, IDisposable
{
    private const int Idle = 0;
    private const int Pending = 1;
    private const int Completed = 2;

    private readonly string _threadName;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private CancellationToken _token;
    private int _state;
    private long _started;

    // Fallback: the endpoint's own waiting thread, its request signal, and what a Cancel asked of it.
    private Thread? _thread;
    private SemaphoreSlim? _request;
    private int _endRequest;
    private volatile bool _disposed;

    private const int NoEndRequest = 0;
    private const int EndAsPosted = 1;
    private const int EndAsCancelled = 2;

    private readonly SemaphoreWaitHub? _hub;

    /// <summary>A wait for an endpoint; <paramref name="threadName"/> names its own thread, if it ever needs one.</summary>
    internal AsyncSemaphoreWait(string threadName)
        : this(threadName, SemaphoreWaitHub.Instance)
    {
    }

    /// <summary>A wait that uses <paramref name="hub"/>, or a thread of its own when it is null (tests run both).</summary>
    internal AsyncSemaphoreWait(string threadName, SemaphoreWaitHub? hub)
    {
        _threadName = threadName;
        _hub = hub;
    }

    /// <summary>The semaphore of the pending wait (set while <see cref="Pending"/>).</summary>
    internal NamedSemaphore? Semaphore { get; private set; }

    /// <summary>When the pending wait ends unposted, as a <see cref="Stopwatch"/> timestamp.</summary>
    internal long Deadline { get; private set; }

    /// <summary>The hub worker the pending wait is registered with, or null; written under that worker's lock.</summary>
    internal SemaphoreWaitHub.Worker? WorkerField;

    // Serialises starting a wait with disposing: once Dispose has taken it, no wait can be added to the hub any more.
    private readonly object _gate = new();

    /// <summary>Waits started so far: lets a test see that a wait has begun without sleeping.</summary>
    internal long WaitsStarted => Interlocked.Read(ref _started);

    /// <summary>
    /// Waits until <paramref name="semaphore"/>'s value is above zero (true) or <paramref name="deadline"/> (a
    /// <see cref="Stopwatch"/> timestamp) passes (false). One wait at a time.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    internal ValueTask<bool> WaitAsync(NamedSemaphore semaphore, long deadline, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Interlocked.CompareExchange(ref _state, Pending, Idle) != Idle)
            {
                throw new InvalidOperationException("An asynchronous wait is already pending on this endpoint.");
            }
            _core.Reset();
            Volatile.Write(ref _endRequest, NoEndRequest);
            Semaphore = semaphore;
            Deadline = deadline;
            _token = cancellationToken;
            Interlocked.Increment(ref _started);
            if (_hub is not null)
            {
                _hub.Add(this);
            }
            else
            {
                StartOnOwnThread();
            }
        }
        // Registered last: a token cancelled meanwhile runs the callback at once, which then finds the wait to end.
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static state => ((AsyncSemaphoreWait)state!).Cancel(cancelled: true), this);
        }
        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>
    /// Ends the pending wait now, if there is one, and makes sure no thread touches its semaphore afterwards (the owner
    /// may unmap it next). A cancelled wait throws <see cref="OperationCanceledException"/>; otherwise it returns true
    /// (posted), so the caller looks at its state again (and finds the endpoint disposed).
    /// </summary>
    internal void Cancel(bool cancelled)
    {
        if (Volatile.Read(ref _state) != Pending)
        {
            return;
        }
        if (_hub is not null)
        {
            SemaphoreWaitHub.Remove(this);
            if (cancelled)
            {
                TryCancel();
            }
            else
            {
                TryComplete(posted: true);
            }
            return;
        }
        // The own thread sleeps in the semaphore: the post wakes it, and it ends the wait as asked. It ends it, not this
        // call, so that the thread is out of its sleep before anyone can start the next wait.
        Volatile.Write(ref _endRequest, cancelled ? EndAsCancelled : EndAsPosted);
        if (Semaphore is { } semaphore && Volatile.Read(ref _state) == Pending)
        {
            semaphore.Post();
        }
    }

    /// <summary>Ends the pending wait with its outcome; false if it already ended (cancelled, say).</summary>
    internal bool TryComplete(bool posted)
    {
        if (Interlocked.CompareExchange(ref _state, Completed, Pending) != Pending)
        {
            return false;
        }
        _core.SetResult(posted);
        return true;
    }

    private bool TryCancel()
    {
        if (Interlocked.CompareExchange(ref _state, Completed, Pending) != Pending)
        {
            return false;
        }
        _core.SetException(new OperationCanceledException(_token));
        return true;
    }

    public bool GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _cancellation.Dispose();
            _cancellation = default;
            Semaphore = null;
            Volatile.Write(ref _state, Idle);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Ends the pending wait (as posted) and stops the own thread, if there is one.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }
        Cancel(cancelled: false);
        _request?.Release();
    }

    private void StartOnOwnThread()
    {
        if (_thread is null)
        {
            _request = new SemaphoreSlim(0);
            _thread = new Thread(RunOwnThread) { IsBackground = true, Name = _threadName };
            _thread.Start();
        }
        _request!.Release();
    }

    /// <summary>The fallback: sleeps in the semaphore itself until it is posted, the deadline passes or the wait is ended.</summary>
    private void RunOwnThread()
    {
        while (true)
        {
            _request!.Wait();
            if (_disposed && Volatile.Read(ref _state) != Pending)
            {
                return;
            }
            NamedSemaphore? semaphore = Semaphore;
            while (semaphore is not null && Volatile.Read(ref _state) == Pending)
            {
                long left = Deadline - Stopwatch.GetTimestamp();
                bool posted = left > 0 && semaphore.Wait(TimeSpan.FromSeconds(left / (double)Stopwatch.Frequency));
                int endRequest = Volatile.Read(ref _endRequest);
                if (endRequest == EndAsCancelled)
                {
                    TryCancel();
                }
                else if (posted || endRequest == EndAsPosted)
                {
                    TryComplete(posted: true);
                }
                else if (Stopwatch.GetTimestamp() >= Deadline)
                {
                    TryComplete(posted: false);
                }
            }
            if (_disposed)
            {
                return;
            }
        }
    }
}
