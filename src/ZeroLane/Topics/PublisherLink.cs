using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Topics;

/// <summary>
/// A subscriber's attachment to one publisher: the publisher's segment mapped, the subscriber entry claimed in it, and the
/// publisher's "slot released" semaphore. It lives until the publisher has gone and every sample taken from it is
/// released, or until the subscriber leaves.
/// </summary>
internal sealed class PublisherLink : IDisposable
{
    private readonly SharedMemory _memory;
    private readonly NamedSemaphore? _slotReleased;
    private int _disposed;

    // History (see QueueHistory): kept samples this side claimed after joining, served after those queued at join.
    private int[] _pending = [];
    private int _pendingCount;
    private int _pendingNext;
    private ulong _historyQueuedEnd;
    private ulong _scanFrom;
    private bool _settled = true;
    // Read once, when joining, and checked: the header word may be rewritten later, and every ring position is taken modulo it.
    private int _historyCapacity;

    internal PublisherLink(string segmentName, SharedMemory memory, MappedRegion region, TopicSegment segment, int entry, NamedSemaphore? slotReleased)
    {
        SegmentName = segmentName;
        _memory = memory;
        Region = region;
        Segment = segment;
        Entry = entry;
        _slotReleased = slotReleased;
        PublisherId = region.ReadUInt64Acquire(TopicLayout.PublisherId);
        Forwarded = (region.ReadUInt32Acquire(TopicLayout.PublisherFlags) & TopicLayout.PublisherFlagForwarded) != 0;
        PublisherPid = segment.Publisher.Read().Pid;
        Bit = 1UL << entry;
    }

    internal string SegmentName { get; }

    internal MappedRegion Region { get; }

    internal TopicSegment Segment { get; }

    internal int Entry { get; }

    internal ulong Bit { get; }

    internal ulong PublisherId { get; }

    /// <summary>True if a gateway republishes another host's samples through this publisher (13.2's publisher flags).</summary>
    internal bool Forwarded { get; }

    /// <summary>The publisher's process, as it was when the link was made (the segments it grows into are named after it).</summary>
    internal int PublisherPid { get; }

    /// <summary>Samples taken from this publisher and not yet released.</summary>
    internal int Held { get; set; }

    /// <summary>The publisher was seen closed (false) or dead (true); null while it is there.</summary>
    internal bool? GoneDead { get; set; }

    /// <summary>Gone and drained: no more samples come from this link; it is disposed once <see cref="Held"/> is 0.</summary>
    internal bool Ended { get; set; }

    /// <summary>The subscriber asked this publisher to wait for it rather than drop its samples: it wakes the publisher as it takes.</summary>
    internal bool BlocksPublisher { get; init; }

    /// <summary>True while kept samples or the entry's queue hold samples not yet taken.</summary>
    internal bool HasQueued =>
        _pendingNext < _pendingCount ||
        (!_settled && Region.ReadUInt64Acquire(TopicLayout.HistoryHead) > _scanFrom) ||
        Region.ReadUInt64Acquire(Segment.HeadOffset(Entry)) != Region.ReadUInt64Acquire(Segment.TailOffset(Entry));

    /// <summary>
    /// Before the entry is active (the publisher leaves its queue alone until then): puts the samples the publisher keeps
    /// for late joiners in the entry's queue, oldest first, holding each by setting this entry's bit in its holders word
    /// while the history bit is still there (a slot whose history bit is gone may be rewritten), and records in the entry
    /// up to which history position it looked ("history from").
    /// </summary>
    /// <remarks>
    /// Samples published after that look and before the publisher sees the entry active reach neither the queue nor this
    /// look. Both sides go after them, each claiming a sample by setting the entry's bit while the history bit is there (so
    /// exactly one gets each): the publisher queues them, from "history from" on, the first time it sees the entry active;
    /// this side claims them at each take (<see cref="SettleHistory"/>) until it meets one the publisher queued, which
    /// also covers a publisher that publishes nothing more.
    /// </remarks>
    /// <param name="includeKept">
    /// False when the subscriber read this publisher's previous segment (it grew): the kept samples were read there, and
    /// only those kept from now on are looked for.
    /// </param>
    /// <exception cref="BufferCorruptedException">The history ring names a slot that does not exist.</exception>
    internal void QueueHistory(bool includeKept)
    {
        int capacity = Segment.HistoryCapacity;
        if ((uint)capacity > TopicLayout.MaxHistory)
        {
            throw TopicSegment.Corrupt(SegmentName, $"its header keeps {(uint)capacity} samples of history, at most {TopicLayout.MaxHistory}");
        }
        _historyCapacity = capacity;
        // acquire [history-kept]: pairs with the publisher's release store of the history head; ring entries below it are set.
        ulong end = capacity == 0 ? 0 : Region.ReadUInt64Acquire(TopicLayout.HistoryHead);
        ulong first = !includeKept ? end : end - Math.Min(end, (ulong)Math.Min(capacity, Segment.Geometry.QueueDepth));
        ulong tail = Region.ReadUInt64(Segment.TailOffset(Entry));
        for (ulong position = first; position < end; position++)
        {
            if (TryHoldKept(position, capacity, out int slot) == KeptClaim.Held)
            {
                Segment.SetQueuedSlot(Entry, tail++, slot);
            }
        }
        Region.WriteUInt64Release(Segment.Geometry.EntryOffset(Entry) + TopicLayout.EntryHistoryFrom, end);
        Region.WriteUInt64Release(Segment.TailOffset(Entry), tail);
        _historyQueuedEnd = tail;
        _scanFrom = end;
        _settled = capacity == 0;
        _pending = new int[capacity];
    }

    /// <summary>
    /// Until the publisher is seen to have queued a sample for the entry: claims the kept samples published since the last
    /// look that are not queued for it (see <see cref="QueueHistory"/>).
    /// </summary>
    /// <remarks>
    /// Once the publisher has queued anything for the entry it has seen the entry active, and it queued (before that) what
    /// this side had not claimed: nothing more to look for. The tail is read before the history head: a sample queued after
    /// the tail read here may show in the head read next, and then its holders word already has this entry's bit (set
    /// before it was queued), which also ends the look.
    /// </remarks>
    internal void SettleHistory()
    {
        if (_settled)
        {
            return;
        }
        // acquire [sample-queued]
        if (Region.ReadUInt64Acquire(Segment.TailOffset(Entry)) != _historyQueuedEnd)
        {
            _settled = true;
            return;
        }
        ulong head = Region.ReadUInt64Acquire(TopicLayout.HistoryHead);
        int capacity = _historyCapacity;
        ulong oldestKept = head - Math.Min(head, (ulong)capacity);
        ulong position = Math.Max(_scanFrom, oldestKept);
        for (; position < head; position++)
        {
            KeptClaim claim = TryHoldKept(position, capacity, out int slot);
            if (claim == KeptClaim.Held)
            {
                AddPending(slot);
            }
            else if (claim == KeptClaim.AlreadyHeld)
            {
                // Queued for the entry: the publisher has seen it, and queues everything from here on.
                _settled = true;
                break;
            }
        }
        _scanFrom = position;
        // release [history-scanned]: before any sample claimed here can be released. A publisher queueing what the entry
        // missed re-reads it after claiming a sample, and lets go of the ones below it (claimed, and maybe released, here).
        Region.WriteUInt64Release(Segment.Geometry.EntryOffset(Entry) + TopicLayout.EntryHistoryFrom, position);
    }

    private void AddPending(int slot)
    {
        if (_pendingCount == _pending.Length)
        {
            if (_pendingNext > 0)
            {
                Array.Copy(_pending, _pendingNext, _pending, 0, _pendingCount - _pendingNext);
                _pendingCount -= _pendingNext;
                _pendingNext = 0;
            }
            else
            {
                Array.Resize(ref _pending, Math.Max(4, _pending.Length * 2));
            }
        }
        _pending[_pendingCount++] = slot;
    }

    /// <summary>
    /// The kept sample claimed by <see cref="SettleHistory"/> that comes next, if it comes before the queue's head: after the
    /// samples queued at join, before anything the publisher queued since. <see cref="PendingTaken"/> moves on.
    /// </summary>
    internal bool TryPeekPending(out int slot)
    {
        if (_pendingNext < _pendingCount && Region.ReadUInt64Acquire(Segment.HeadOffset(Entry)) >= _historyQueuedEnd)
        {
            slot = _pending[_pendingNext];
            return true;
        }
        slot = -1;
        return false;
    }

    internal void PendingTaken() => _pendingNext++;

    private enum KeptClaim
    {
        Held,
        AlreadyHeld,
        Gone,
    }

    /// <summary>
    /// Holds the kept sample at history position <paramref name="position"/>: Held if it is still kept and is the sample of
    /// that position (every publish is kept, so position p holds sequence p + 1; a slot reused since is let go), AlreadyHeld
    /// if the entry's bit is set already (the sample is queued for it), Gone otherwise.
    /// </summary>
    private KeptClaim TryHoldKept(ulong position, int capacity, out int slot)
    {
        uint value = Region.ReadUInt32Acquire(TopicLayout.HistoryRing + 4 * (long)(position % (ulong)capacity));
        if (value >= Segment.Geometry.SlotCount)
        {
            throw TopicSegment.Corrupt(SegmentName, $"its history names slot {value} of {Segment.Geometry.SlotCount}");
        }
        slot = (int)value;
        long offset = Segment.HoldersOffset(slot);
        while (true)
        {
            ulong holders = Region.ReadUInt64Acquire(offset);
            if ((holders & Bit) != 0)
            {
                return KeptClaim.AlreadyHeld;
            }
            if ((holders & TopicLayout.HistoryBit) == 0)
            {
                return KeptClaim.Gone;
            }
            if (Region.CompareAndSetUInt64(offset, holders, holders | Bit))
            {
                break;
            }
        }
        // Held: the slot's metadata is stable now.
        if (Region.ReadUInt64Acquire(Segment.Geometry.SlotOffset(slot) + TopicLayout.SlotSequence) == position + 1)
        {
            return KeptClaim.Held;
        }
        ReleaseSlot(slot);
        return KeptClaim.Gone;
    }

    /// <summary>A sample was taken from the queue: a publisher waiting for room in it (<see cref="BlocksPublisher"/>) may go on.</summary>
    internal void WakePublisherIfBlocked()
    {
        if (BlocksPublisher && _slotReleased is not null && _slotReleased.Value <= 0)
        {
            _slotReleased.Post();
        }
    }

    /// <summary>Gives slot <paramref name="slot"/> back: clears this subscriber's bit, and wakes the publisher if it waits for a slot.</summary>
    internal void ReleaseSlot(int slot)
    {
        long offset = Segment.HoldersOffset(slot);
        while (true)
        {
            ulong holders = Region.ReadUInt64Acquire(offset);
            // Both the subscriber (releasing) and the publisher (dropping, reclaiming) clear bits: always atomically.
            if ((holders & Bit) == 0 || Region.CompareAndSetUInt64(offset, holders, holders & ~Bit))
            {
                break;
            }
        }
        if (_slotReleased is not null && _slotReleased.Value <= 0)
        {
            _slotReleased.Post();
        }
    }

    /// <summary>
    /// Leaves the publisher (if it is still there, its next write takes back this entry's bits and queue) and unmaps. No
    /// sample taken from the link may be touched afterwards.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (GoneDead is not true)
        {
            // Also in a closed segment: a publisher that grew out of it lets go of the entry it copied for this subscriber.
            Segment.SetEntryState(Entry, EntryState.Leaving);
            if (Segment.State == SegmentState.Open)
            {
                _slotReleased?.Post();
            }
        }
        _slotReleased?.Dispose();
        Region.Dispose();
        _memory.Dispose();
    }
}
