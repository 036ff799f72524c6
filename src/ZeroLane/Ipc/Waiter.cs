using System.Diagnostics;
using System.Runtime.CompilerServices;
using ZeroLane.Posix;

namespace ZeroLane.Ipc;

/// <summary>
/// One wait of a reader (for a frame) or a writer (for space): spins and/or sleeps on the semaphore
/// according to the <see cref="WaitStrategy"/>, honours the deadline and the cancellation token, and says
/// when it is time to check that the peer still lives.
/// </summary>
/// <remarks>
/// Design: the semaphore is only a wake-up hint. The caller re-checks the shared counters after every
/// <see cref="Wait"/>, so a unit taken here that belonged to an already-seen frame costs one spurious
/// wake-up and nothing else. Sleeps are cut into slices no longer than the peer-check interval so a dead
/// peer is noticed while idle; cancellation posts the semaphore so a sleeping wait wakes at once.
/// </remarks>
internal ref struct Waiter
{
    /// <summary>Spin iterations of <see cref="WaitStrategy.SpinThenBlock"/> before it sleeps (roughly 50 to 100 µs).</summary>
    internal const int SpinLimit = 2000;

    private readonly WaitStrategy _strategy;
    private readonly NamedSemaphore _semaphore;
    private readonly CancellationToken _cancellationToken;
    private WaitSchedule _schedule;
    private int _spins;
    private bool _drained;
    private CancellationTokenRegistration _registration;

    internal Waiter(WaitStrategy strategy, TimeSpan timeout, TimeSpan peerCheckInterval, NamedSemaphore semaphore, CancellationToken cancellationToken)
    {
        _strategy = strategy;
        _schedule = new WaitSchedule(timeout, peerCheckInterval);
        _semaphore = semaphore;
        _cancellationToken = cancellationToken;
        _spins = 0;
        _drained = false;
        _registration = default;
    }

    /// <summary>True once per peer-check interval: the caller should check that its peer still lives.</summary>
    internal bool PeerCheckDue()
    {
        if (_spins != 0 && (_spins & 63) != 0 && Spinning)
        {
            // While spinning, read the clock only every 64 iterations: a clock read costs as much as a
            // spin iteration and would otherwise delay noticing the next frame.
            return false;
        }
        return _schedule.PeerCheckDue();
    }

    /// <summary>True while this wait spins rather than sleeps.</summary>
    private readonly bool Spinning => _strategy == WaitStrategy.BusySpin || (_strategy == WaitStrategy.SpinThenBlock && _spins < SpinLimit);

    /// <summary>Waits a little. Returns false when the deadline has passed; throws when cancelled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Wait()
    {
        _cancellationToken.ThrowIfCancellationRequested();
        if (Spinning)
        {
            _spins++;
            if ((_spins & 63) == 1 && _schedule.Expired)
            {
                return false;
            }
            Thread.SpinWait(1);
            return true;
        }
        return Sleep();
    }

    private bool Sleep()
    {
        long now = Stopwatch.GetTimestamp();
        if (now >= _schedule.Deadline)
        {
            return false;
        }
        if (!_drained)
        {
            // Units left by frames (or space) already seen would wake us at once: clear them, and let the
            // caller re-check its condition once more before we really sleep. A post after this drain
            // belongs to something the re-check may have missed, and wakes the sleep below.
            _semaphore.Drain();
            // Full fence for the same reason as after a wake: the re-check must follow the drain.
            Interlocked.MemoryBarrier();
            _drained = true;
            return true;
        }
        if (_cancellationToken.CanBeCanceled && _registration == default)
        {
            _registration = _cancellationToken.UnsafeRegister(static state => ((NamedSemaphore)state!).Post(), _semaphore);
        }
        long slice = _schedule.NextWake - now;
        if (_semaphore.Wait(TimeSpan.FromSeconds(Math.Max(slice, 1) / (double)Stopwatch.Frequency)))
        {
            // Woken by a post: drain again before the next sleep. glibc takes the unit with an acquire-only
            // CAS; the caller's next load of the counters must not be ordered before it (a store-buffering
            // pattern with the peer's "update counter, then read semaphore value"), which matters on arm64.
            Interlocked.MemoryBarrier();
            _drained = false;
        }
        _cancellationToken.ThrowIfCancellationRequested();
        return true;
    }

    public void Dispose() => _registration.Dispose();
}
