using ZeroLane.Posix;

namespace ZeroLane.Ipc;

/// <summary>
/// Who holds a role in shared memory (a ring's writer or reader, later a topic's publisher or subscriber): two 64-bit
/// words of a <see cref="MappedRegion"/>, the holder's PID and its start time, so that a PID the kernel has since given
/// to another process is not taken for the holder.
/// </summary>
/// <remarks>
/// Design: the PID word is the claim. It goes from 0 to a PID only by compare-and-set, and back to 0 by its holder
/// (leaving) or by anyone who found the holder dead, again by compare-and-set, so two claimants never both win and a
/// newer holder's claim is never wiped by a late cleaner. The start time is written around the claim: zeroed before
/// it, set after it (release), and cleared after the PID only if it is still the old holder's. A reader that sees a PID
/// with start time 0 treats the start time as unknown (the check then falls back to the PID alone).
/// </remarks>
internal readonly struct PeerSlot
{
    private readonly MappedRegion _region;
    private readonly long _pidOffset;
    private readonly long _startTimeOffset;

    internal PeerSlot(MappedRegion region, long pidOffset, long startTimeOffset)
    {
        _region = region;
        _pidOffset = pidOffset;
        _startTimeOffset = startTimeOffset;
    }

    /// <summary>The holder's PID (acquire), 0 when nobody holds the role; a plain leave is seen at once.</summary>
    internal ulong Pid => _region.ReadUInt64Acquire(_pidOffset);

    /// <summary>
    /// The recorded holder (PID 0 when none). A PID word beyond what a PID can be (another process overwrote it) reads as
    /// PID -1, which no process has, so it is never taken for a live process, nor cut down to the PID of one.
    /// </summary>
    internal ProcessIdentity Read() => Identity(_region.ReadUInt64Acquire(_pidOffset), _region.ReadUInt64Acquire(_startTimeOffset));

    private static ProcessIdentity Identity(ulong pidWord, ulong startTime) =>
        new(pidWord <= int.MaxValue ? (int)pidWord : NoProcess, startTime);

    /// <summary>The PID a PID word that no process can have reads as.</summary>
    internal const int NoProcess = -1;

    /// <summary>Whether a holder is recorded and that very process still runs.</summary>
    internal bool IsHeldByLiveProcess(IIpcPlatform platform)
    {
        ProcessIdentity holder = Read();
        return holder.Pid != 0 && platform.IsAlive(holder);
    }

    /// <summary>Records <paramref name="self"/> as the holder with plain stores, for a creator before it publishes the structure.</summary>
    internal void Initialize(ProcessIdentity self)
    {
        _region.WriteUInt64(_startTimeOffset, self.StartTime);
        _region.WriteUInt64(_pidOffset, (ulong)self.Pid);
    }

    /// <summary>
    /// Claims the role for <paramref name="self"/>, clearing the claim of a holder found dead. Returns default when claimed,
    /// or the live holder that keeps it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Other claimants kept winning for 100 attempts.</exception>
    internal ProcessIdentity Claim(ProcessIdentity self, IIpcPlatform platform)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            ulong pidWord = _region.ReadUInt64Acquire(_pidOffset);
            if (pidWord != 0)
            {
                ulong startTime = _region.ReadUInt64Acquire(_startTimeOffset);
                ProcessIdentity holder = Identity(pidWord, startTime);
                if (platform.IsAlive(holder))
                {
                    return holder;
                }
                // Cleared by the exact word found, so a PID word no process can have is cleared like a dead holder's.
                if (_region.CompareAndSetUInt64(_pidOffset, pidWord, 0))
                {
                    _region.CompareAndSetUInt64(_startTimeOffset, startTime, 0);
                }
                continue;
            }
            _region.WriteUInt64(_startTimeOffset, 0);
            if (_region.CompareAndSetUInt64(_pidOffset, 0, (ulong)self.Pid))
            {
                _region.WriteUInt64Release(_startTimeOffset, self.StartTime);
                return default;
            }
        }
        throw new InvalidOperationException("Other processes kept claiming the same role; could not take it.");
    }

    /// <summary>
    /// Claims the role for <paramref name="self"/> only if nobody holds it (a dead holder's claim is left for its owner to
    /// clear, which may have more to undo than the claim); false if it is held.
    /// </summary>
    internal bool TryClaimIfFree(ProcessIdentity self)
    {
        if (_region.ReadUInt64Acquire(_pidOffset) != 0)
        {
            return false;
        }
        _region.WriteUInt64(_startTimeOffset, 0);
        if (!_region.CompareAndSetUInt64(_pidOffset, 0, (ulong)self.Pid))
        {
            return false;
        }
        _region.WriteUInt64Release(_startTimeOffset, self.StartTime);
        return true;
    }

    /// <summary>
    /// Clears <paramref name="holder"/>'s claim (its PID, then its start time unless a newer holder stored its own);
    /// false, changing nothing, if the slot no longer holds that PID.
    /// </summary>
    internal bool TryClear(ProcessIdentity holder)
    {
        if (!_region.CompareAndSetUInt64(_pidOffset, (ulong)holder.Pid, 0))
        {
            return false;
        }
        _region.CompareAndSetUInt64(_startTimeOffset, holder.StartTime, 0);
        return true;
    }

    /// <summary>Clears the slot unconditionally (start time, then the PID with release), for the single holder of a role.</summary>
    internal void Vacate()
    {
        _region.WriteUInt64(_startTimeOffset, 0);
        _region.WriteUInt64Release(_pidOffset, 0);
    }
}
