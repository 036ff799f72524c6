using System.Diagnostics;

namespace ZeroLane.Ipc;

/// <summary>
/// When a wait gives up (its deadline) and when it next checks that its peer still lives, for the synchronous
/// <see cref="Waiter"/> and the asynchronous wait loops alike.
/// </summary>
internal struct WaitSchedule
{
    private readonly long _deadline;
    private readonly long _peerCheckTicks;
    private long _nextPeerCheck;

    /// <summary>A wait of at most <paramref name="timeout"/> (infinite allowed) that checks its peer every <paramref name="peerCheckInterval"/>.</summary>
    internal WaitSchedule(TimeSpan timeout, TimeSpan peerCheckInterval)
    {
        long now = Stopwatch.GetTimestamp();
        _deadline = timeout == Timeout.InfiniteTimeSpan || timeout.Ticks > TimeSpan.MaxValue.Ticks / 4
            ? long.MaxValue
            : now + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _peerCheckTicks = Math.Max(1, (long)(peerCheckInterval.TotalSeconds * Stopwatch.Frequency));
        _nextPeerCheck = now + _peerCheckTicks;
    }

    /// <summary>The deadline, as a <see cref="Stopwatch"/> timestamp (<see cref="long.MaxValue"/> for none).</summary>
    internal readonly long Deadline => _deadline;

    /// <summary>When the wait must wake at the latest: at the deadline or for the next peer check.</summary>
    internal readonly long NextWake => Math.Min(_deadline, _nextPeerCheck);

    /// <summary>True once the deadline has passed.</summary>
    internal readonly bool Expired => Stopwatch.GetTimestamp() >= _deadline;

    /// <summary>True once per peer-check interval: the caller should check that its peer still lives.</summary>
    internal bool PeerCheckDue()
    {
        long now = Stopwatch.GetTimestamp();
        if (now < _nextPeerCheck)
        {
            return false;
        }
        _nextPeerCheck = now + _peerCheckTicks;
        return true;
    }
}
