using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Buffers;

public sealed partial class RingWriter
{
    /// <summary>
    /// Connects to the buffer <paramref name="name"/> as its writer, waiting as long as it takes for a reader to create it.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    /// <exception cref="IncompatibleBufferException">The segment is not a ZeroBuffer v1 buffer.</exception>
    public static RingWriter Connect(string name, CancellationToken cancellationToken = default) =>
        Connect(name, Timeout.InfiniteTimeSpan, null, cancellationToken);

    /// <summary>
    /// Connects to the buffer <paramref name="name"/> as its writer, waiting at most <paramref name="timeout"/> for a live
    /// reader to create it (a buffer left by a dead reader counts as not there yet: a new reader replaces it).
    /// </summary>
    /// <exception cref="TimeoutException">No live reader created the buffer in time; the message says what the last attempt found.</exception>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    /// <exception cref="IncompatibleBufferException">The segment is not a ZeroBuffer v1 buffer.</exception>
    public static RingWriter Connect(string name, TimeSpan timeout, WriterOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var wait = new ConnectWait(name, timeout, options, IpcPlatform.Current);
        while (true)
        {
            if (wait.TryConnectOnce() is { } writer)
            {
                return writer;
            }
            if (wait.Expired)
            {
                throw wait.TimedOut();
            }
            wait.Sleep(cancellationToken);
        }
    }

    /// <summary>
    /// Connects to the buffer <paramref name="name"/> as its writer if a live reader creates it within
    /// <paramref name="timeout"/> (<see cref="TimeSpan.Zero"/> tries once). It waits on a watch of /dev/shm, so it
    /// connects as soon as the buffer appears, and looks again every <see cref="WriterOptions.PeerCheckInterval"/> should
    /// the watch miss it. On success the caller owns <paramref name="writer"/> and disposes it.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    /// <exception cref="IncompatibleBufferException">The segment is not a ZeroBuffer v1 buffer.</exception>
    public static ConnectStatus TryConnect(string name, [NotNullWhen(true)] out RingWriter? writer, TimeSpan timeout, WriterOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        using var wait = new ConnectWait(name, timeout, options, IpcPlatform.Current);
        while (true)
        {
            writer = wait.TryConnectOnce();
            if (writer is not null)
            {
                return ConnectStatus.Success;
            }
            if (wait.Expired)
            {
                return ConnectStatus.TimedOut;
            }
            wait.Sleep(cancellationToken);
        }
    }

    /// <summary>
    /// Connects to the buffer <paramref name="name"/> as its writer, waiting as long as it takes for a reader to create it,
    /// without blocking a thread while it waits.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    public static ValueTask<RingWriter> ConnectAsync(string name, CancellationToken cancellationToken = default) =>
        ConnectAsync(name, Timeout.InfiniteTimeSpan, null, cancellationToken);

    /// <summary>
    /// Connects to the buffer <paramref name="name"/> as its writer, waiting at most <paramref name="timeout"/> for a live
    /// reader to create it, without blocking a thread while it waits.
    /// </summary>
    /// <exception cref="TimeoutException">No live reader created the buffer in time; the message says what the last attempt found.</exception>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    public static async ValueTask<RingWriter> ConnectAsync(string name, TimeSpan timeout, WriterOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        using var wait = new ConnectWait(name, timeout, options, IpcPlatform.Current);
        while (true)
        {
            if (wait.TryConnectOnce() is { } writer)
            {
                return writer;
            }
            if (wait.Expired)
            {
                throw wait.TimedOut();
            }
            await wait.SleepAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The asynchronous <see cref="TryConnect"/>: connects if a live reader creates the buffer within
    /// <paramref name="timeout"/>, without blocking a thread while it waits. On success the caller owns the writer.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    public static async ValueTask<ConnectResult> TryConnectAsync(string name, TimeSpan timeout, WriterOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        using var wait = new ConnectWait(name, timeout, options, IpcPlatform.Current);
        while (true)
        {
            if (wait.TryConnectOnce() is { } writer)
            {
                return new ConnectResult(ConnectStatus.Success, writer);
            }
            if (wait.Expired)
            {
                return new ConnectResult(ConnectStatus.TimedOut, null);
            }
            await wait.SleepAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One writer's wait for its buffer to appear.
    /// </summary>
    /// <remarks>
    /// Design: try to connect; on "not there yet" (no buffer, a buffer still being created, a buffer whose reader is
    /// dead) register a watch for the name in /dev/shm (<see cref="SharedMemoryWatch"/>), try once more (it may have
    /// appeared meanwhile), then sleep until the watch fires, the next periodic look (the peer-check interval) or the
    /// deadline. The reader makes the segment before it fills in its header, so a try right after the watch fires may find
    /// it half made: the looks after an event come quickly (1 ms, doubling up to the interval). Every other refusal (a
    /// second writer, an incompatible or corrupt segment) is thrown at once.
    /// </remarks>
    private sealed class ConnectWait : IDisposable
    {
        private static readonly TimeSpan s_firstRetry = TimeSpan.FromMilliseconds(1);

        private readonly string _name;
        private readonly WriterOptions _options;
        private readonly IIpcPlatform _platform;
        private readonly TimeSpan _timeout;
        private readonly long _deadline;
        private readonly TimeSpan _interval;
        // Not disposed: the watch's thread may still release it after this wait ended, and without a wait handle
        // (never asked for) disposing it releases nothing.
        private readonly SemaphoreSlim _appeared = new(0, 1);
        private IDisposable? _watch;
        private TimeSpan _retry;
        private ZeroLaneException? _lastRefusal;

        internal ConnectWait(string name, TimeSpan timeout, WriterOptions? options, IIpcPlatform platform)
        {
            BufferNames.Validate(name);
            if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                    "Use a timeout of zero or more, or Timeout.InfiniteTimeSpan to wait as long as it takes.");
            }
            _name = name;
            _options = options ?? new WriterOptions();
            _platform = platform;
            _timeout = timeout;
            long now = Stopwatch.GetTimestamp();
            _deadline = timeout == Timeout.InfiniteTimeSpan || timeout.Ticks > TimeSpan.MaxValue.Ticks / 4
                ? long.MaxValue
                : now + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            _interval = _options.PeerCheckInterval > s_firstRetry ? _options.PeerCheckInterval : s_firstRetry;
            _retry = s_firstRetry;
        }

        internal bool Expired => Stopwatch.GetTimestamp() >= _deadline;

        /// <summary>A connected writer, or null when the buffer is not there yet (the refusal is kept for the timeout's message).</summary>
        internal RingWriter? TryConnectOnce()
        {
            try
            {
                return new RingWriter(_name, _options, _platform);
            }
            catch (BufferNotFoundException notFound)
            {
                _lastRefusal = notFound;
            }
            catch (ReaderGoneException readerGone)
            {
                _lastRefusal = readerGone;
            }
            return null;
        }

        internal void Sleep(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (StartWatching())
            {
                return;
            }
            Woke(_appeared.Wait(NextSleepMilliseconds(), cancellationToken));
        }

        internal async ValueTask SleepAsync(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (StartWatching())
            {
                return;
            }
            Woke(await _appeared.WaitAsync(NextSleepMilliseconds(), cancellationToken).ConfigureAwait(false));
        }

        internal TimeoutException TimedOut() => ThrowHelper.ConnectTimedOut(_name, _timeout, _lastRefusal);

        /// <summary>Registers the watch on the first sleep; true if it did (the caller then tries again before sleeping).</summary>
        private bool StartWatching()
        {
            if (_watch is not null)
            {
                return false;
            }
            _watch = SharedMemoryWatch.Watch(_name, OnAppeared);
            return true;
        }

        private void OnAppeared()
        {
            try
            {
                _appeared.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled; one wake is enough.
            }
        }

        private void Woke(bool signalled) =>
            _retry = signalled ? s_firstRetry : (_retry < _interval ? _retry * 2 : _interval);

        private int NextSleepMilliseconds()
        {
            TimeSpan sleep = _retry < _interval ? _retry : _interval;
            if (_deadline != long.MaxValue)
            {
                TimeSpan left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);
                sleep = left < sleep ? left : sleep;
            }
            return Math.Max(0, (int)Math.Ceiling(sleep.TotalMilliseconds));
        }

        public void Dispose() => _watch?.Dispose();
    }
}
