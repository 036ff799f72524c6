using ZeroLane.Posix;

namespace ZeroLane.Topics;

/// <summary>
/// Growth: a sample larger than the slots moves the publisher to a new segment with larger slots, without losing, tearing
/// or repeating a sample for any subscriber.
/// </summary>
/// <remarks>
/// The new segment (a new ID in its name, the same publisher ID in its header, its predecessor's ID at
/// <see cref="TopicLayout.Predecessor"/>) is set up before anyone sees it: the kept samples are copied into it at the same
/// history positions, and every active subscriber entry of the old segment is copied to the same index with the
/// <see cref="EntryFlags.Inherited"/> flag, so that every sample published from then on is queued for those subscribers
/// already. Then the old segment gets its successor's ID and is closed. A subscriber reads the old segment's queue to the
/// end, opens the successor, and takes over its inherited entry (clearing the flag): no sample is published in between
/// that is not queued for it. The publisher keeps each old segment (mapped, named, locked) while an entry inherited from
/// it is not taken over yet, and lets go of an inherited entry whose subscriber left the old segment or died.
/// </remarks>
public sealed partial class Publisher
{
    /// <summary>The largest slot a publisher grows to: a sample is at most 1 GiB.</summary>
    private const long MaxSlotCapacity = 1L << 30;

    /// <summary>Segments this publisher grew out of, oldest first, kept while their subscribers still move on from them.</summary>
    private readonly List<OwnedSegment> _retired = new();

    /// <summary>Moves to a new segment whose slots take <paramref name="length"/> bytes (at least twice the current size).</summary>
    private void Grow(int length)
    {
        long capacity = Math.Max(
            TopicGeometry.Align(length, TopicLayout.Alignment),
            Math.Min(2 * _geometry.SlotCapacity, MaxSlotCapacity));
        TopicGeometry geometry = _geometry with { SlotCapacity = capacity };
        OwnedSegment next = OwnedSegment.Create(
            _platform, _names, _self, TopicNames.NewId(), Id, _owned.Id, geometry, _options.History, _options.Permissions, _fullWrites, _modifiedWrites);
        ulong inherited;
        try
        {
            next.Region.WriteUInt64(TopicLayout.Published, _sequence - 1);
            MarkForwarded(next);
            CopyHistory(next);
            inherited = Inherit(next);
            next.Open(_options.Permissions);
        }
        catch
        {
            next.Dispose();
            throw;
        }
        OwnedSegment previous = _owned;
        // release [segment-succeeded]: a subscriber that sees the old segment closed finds where it goes on.
        previous.Region.WriteUInt64Release(TopicLayout.Successor, next.Id);
        previous.Close();
        Use(next);
        _previousPresent = inherited;
        _retired.Add(previous);
        for (int i = 0; inherited >> i != 0; i++)
        {
            if ((inherited >> i & 1) != 0)
            {
                // Wakes the subscriber: it reads the rest of the old queue, then moves on.
                SemaphoreOf(i)?.Post();
            }
        }
        GrowthCount++;
        // Entries that left the old segment while they were copied are let go at once (and with them, maybe, the old segment).
        CheckInherited();
    }

    /// <summary>Times this publisher moved to larger shared memory because a sample did not fit its slots.</summary>
    public int GrowthCount { get; private set; }

    /// <summary>
    /// Copies the kept samples into <paramref name="next"/>'s slots 0, 1, ... at the same history positions (position p
    /// holds sequence p + 1 in every segment of a publisher), each held by the history bit alone.
    /// </summary>
    private void CopyHistory(OwnedSegment next)
    {
        int capacity = _options.History;
        if (capacity == 0)
        {
            return;
        }
        ulong kept = Math.Min(_historyHead, (ulong)capacity);
        int target = 0;
        for (ulong position = _historyHead - kept; position < _historyHead; position++, target++)
        {
            int source = KeptSlot(HistoryPosition(position));
            long from = _geometry.SlotOffset(source);
            long to = next.Geometry.SlotOffset(target);
            int length = (int)_region.ReadUInt64(from + TopicLayout.SlotLength);
            _region.GetSpan(_geometry.SlotDataOffset(source), length).CopyTo(next.Region.GetSpan(next.Geometry.SlotDataOffset(target), length));
            next.Region.WriteUInt64(to + TopicLayout.SlotSequence, _region.ReadUInt64(from + TopicLayout.SlotSequence));
            next.Region.WriteUInt64(to + TopicLayout.SlotLength, (ulong)length);
            next.Region.WriteUInt64(to + TopicLayout.SlotTimestamp, _region.ReadUInt64(from + TopicLayout.SlotTimestamp));
            next.Region.WriteUInt64(to + TopicLayout.SlotHolders, TopicLayout.HistoryBit);
            next.Region.WriteUInt32Release(TopicLayout.HistoryRing + 4 * (long)(position % (ulong)capacity), (uint)target);
        }
        next.Region.WriteUInt64Release(TopicLayout.HistoryHead, _historyHead);
    }

    /// <summary>
    /// Copies every active subscriber entry to the same index of <paramref name="next"/>, flagged inherited, with nothing
    /// queued and the history already behind it. Returns the entries' bits.
    /// </summary>
    private ulong Inherit(OwnedSegment next)
    {
        ulong inherited = 0;
        for (int i = 0; i < _geometry.MaxSubscribers; i++)
        {
            if (_segment.EntryStateOf(i) != EntryState.Active)
            {
                continue;
            }
            ProcessIdentity holder = _segment.Subscriber(i).Read();
            if (holder.Pid == 0 || !next.Segment.Subscriber(i).TryClaimIfFree(holder))
            {
                continue;
            }
            TopicSegment segment = next.Segment;
            segment.SetEntryId(i, _segment.EntryId(i));
            segment.SetEntryFlags(i, (_segment.EntryFlagsOf(i) & EntryFlags.BlockPublisher) | EntryFlags.Inherited);
            next.Region.WriteUInt64Release(next.Geometry.EntryOffset(i) + TopicLayout.EntryHistoryFrom, _historyHead);
            segment.SetEntryState(i, EntryState.Active);
            inherited |= 1UL << i;
        }
        return inherited;
    }

    /// <summary>
    /// Before a new publisher's segment opens: gives every subscriber of the topic that is already there (its semaphore is
    /// in /dev/shm and its process lives) an entry, flagged inherited, so that it reads every sample from the first one on,
    /// however late it notices the publisher. It takes the entry over when it finds the segment. Returns the entries' bits.
    /// </summary>
    /// <remarks>
    /// The entry records the subscriber's PID with start time 0 (unknown: liveness is then judged by the PID alone); the
    /// subscriber writes its start time when it takes the entry over.
    /// </remarks>
    private ulong PreregisterWaitingSubscribers(OwnedSegment owned)
    {
        ulong entries = 0;
        int next = 0;
        foreach ((_, int pid, ulong id) in _names.FindSubscribers())
        {
            var holder = new ProcessIdentity(pid, 0);
            if (next == owned.Geometry.MaxSubscribers)
            {
                break; // the others join as subscribers that come later do
            }
            if (!_platform.IsAlive(holder) || !owned.Segment.Subscriber(next).TryClaimIfFree(holder))
            {
                continue;
            }
            owned.Segment.SetEntryId(next, id);
            owned.Segment.SetEntryFlags(next, EntryFlags.Inherited | ((id & TopicNames.BlocksPublisherBit) != 0 ? EntryFlags.BlockPublisher : EntryFlags.None));
            owned.Segment.SetEntryState(next, EntryState.Active);
            entries |= 1UL << next;
            next++;
        }
        return entries;
    }

    /// <summary>
    /// Lets go of inherited entries whose subscriber left (its semaphore is gone), died, or left the segment before without
    /// taking them over, and of the old segments no entry needs any more. Runs at each liveness check.
    /// </summary>
    private void CheckInherited()
    {
        for (int i = 0; i < _geometry.MaxSubscribers; i++)
        {
            if (IsAwaited(_segment, i) && !SubscriberStillThere(_segment, i))
            {
                // The next write takes the entry back like any that left.
                _segment.TryEndInheritance(i, EntryState.Leaving);
            }
        }
        if (_retired.Count == 0)
        {
            return;
        }
        // Oldest first: an entry let go in one segment is let go in the next one too.
        for (int k = 0; k < _retired.Count; k++)
        {
            TopicSegment before = _retired[k].Segment;
            TopicSegment after = k + 1 < _retired.Count ? _retired[k + 1].Segment : _segment;
            for (int i = 0; i < _geometry.MaxSubscribers; i++)
            {
                if (!IsAwaited(after, i))
                {
                    continue;
                }
                bool stillThere = before.EntryStateOf(i) == EntryState.Active && before.EntryId(i) == after.EntryId(i) &&
                    after.Subscriber(i).IsHeldByLiveProcess(_platform);
                // In the current segment the next write takes a let-go entry back like any that left.
                if (!stillThere)
                {
                    after.TryEndInheritance(i, EntryState.Leaving);
                }
            }
        }
        while (_retired.Count > 0 && !HasAwaited(_retired[0].Segment) && !HasAwaited(_retired.Count > 1 ? _retired[1].Segment : _segment))
        {
            _retired[0].Dispose();
            _retired.RemoveAt(0);
        }
    }

    /// <summary>The subscriber an awaited entry waits for still lives and has not left (its semaphore is still there).</summary>
    private bool SubscriberStillThere(TopicSegment segment, int entry)
    {
        ProcessIdentity holder = segment.Subscriber(entry).Read();
        return _platform.IsAlive(holder) &&
            File.Exists(TopicNames.SemaphorePath(_names.SubscriberSemaphore(holder.Pid, segment.EntryId(entry))));
    }

    private static bool IsAwaited(TopicSegment segment, int entry) => segment.IsAwaited(entry);

    private bool HasAwaited(TopicSegment segment)
    {
        for (int i = 0; i < _geometry.MaxSubscribers; i++)
        {
            if (IsAwaited(segment, i))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// On dispose: waits, at most the acknowledge timeout, for subscribers to take over their inherited entries, so that
    /// one still reading an old segment finds the newer ones.
    /// </summary>
    private void AwaitInheritors()
    {
        if (_retired.Count == 0 && !HasAwaited(_segment))
        {
            return;
        }
        TimeSpan timeout = _options.AcknowledgeTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.FromSeconds(10) : _options.AcknowledgeTimeout;
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            CheckInherited();
            if ((_retired.Count == 0 && !HasAwaited(_segment)) || Environment.TickCount64 >= deadline)
            {
                return;
            }
            Thread.Sleep(2);
        }
    }
}
