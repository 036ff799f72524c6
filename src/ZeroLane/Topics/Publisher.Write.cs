using System.Runtime.CompilerServices;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Topics;

public sealed partial class Publisher
{
    /// <summary>Publishes <paramref name="sample"/> (copied once into a slot), waiting at most the acknowledge timeout for a free slot.</summary>
    /// <exception cref="TimeoutException">Every slot stayed held by subscribers for the acknowledge timeout.</exception>
    /// <exception cref="FrameTooLargeException">The sample is larger than <see cref="MaxSampleSize"/> and the publisher may not grow.</exception>
    public void Write(ReadOnlySpan<byte> sample, CancellationToken cancellationToken = default) =>
        Write(sample, _options.AcknowledgeTimeout, cancellationToken);

    /// <summary>Publishes <paramref name="sample"/>, waiting at most <paramref name="timeout"/> for a free slot.</summary>
    /// <exception cref="TimeoutException">Every slot stayed held by subscribers for <paramref name="timeout"/>.</exception>
    /// <exception cref="FrameTooLargeException">The sample is larger than <see cref="MaxSampleSize"/> and the publisher may not grow.</exception>
    public void Write(ReadOnlySpan<byte> sample, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ThrowForStatus(TryWrite(sample, timeout, cancellationToken), timeout);

    /// <summary>
    /// Publishes <paramref name="sample"/> if a slot is free or frees up within <paramref name="timeout"/>; a timeout is
    /// returned, not thrown. With no subscriber the sample is published to nobody (and is the previous sample of the next).
    /// </summary>
    /// <exception cref="FrameTooLargeException">The sample is larger than <see cref="MaxSampleSize"/> and the publisher may not grow.</exception>
    public WriteStatus TryWrite(ReadOnlySpan<byte> sample, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        CheckLength(sample.Length);
        WriteStatus status = AcquireSlot(timeout, cancellationToken, out int slot);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        sample.CopyTo(_region.GetSpan(_geometry.SlotDataOffset(slot), sample.Length));
        Publish(slot, sample.Length);
        return WriteStatus.Success;
    }

    /// <summary>
    /// Publishes the sample <paramref name="writer"/> fills in place: <see cref="IPayloadWriter.WriteModified"/> when the slot
    /// it gets holds this publisher's previous sample at the same size, <see cref="IPayloadWriter.WriteFull"/> otherwise.
    /// Waits at most <paramref name="timeout"/> for a free slot.
    /// </summary>
    /// <returns>True if published; false if the writer abandoned the sample.</returns>
    /// <exception cref="TimeoutException">Every slot stayed held by subscribers for <paramref name="timeout"/>.</exception>
    /// <exception cref="FrameTooLargeException">The writer's size is larger than <see cref="MaxSampleSize"/>.</exception>
    public bool Write(IPayloadWriter writer, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryWrite(writer, out bool published, timeout, cancellationToken);
        ThrowForStatus(status, timeout);
        return published;
    }

    /// <summary>
    /// Publishes the sample <paramref name="writer"/> fills in place (see <see cref="Write(IPayloadWriter, TimeSpan, CancellationToken)"/>)
    /// if a slot is free or frees up within <paramref name="timeout"/>; <paramref name="published"/> is false when the writer
    /// abandoned it.
    /// </summary>
    /// <exception cref="FrameTooLargeException">The writer's size is larger than <see cref="MaxSampleSize"/>.</exception>
    public WriteStatus TryWrite(IPayloadWriter writer, out bool published, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        int size = writer.GetSize();
        CheckLength(size);
        published = false;
        WriteStatus status = AcquireSlot(timeout, cancellationToken, out int slot);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        bool modified = slot == _lastSlot && size == _lastLength;
        // Whatever happens next, the slot no longer holds the previous sample for certain.
        _lastSlot = -1;
        Span<byte> buffer = _region.GetSpan(_geometry.SlotDataOffset(slot), size);
        if (!(modified ? writer.WriteModified(buffer) : writer.WriteFull(buffer)))
        {
            return WriteStatus.Success;
        }
        // The counts are in the header too, for inspectors.
        if (modified)
        {
            _region.WriteUInt64Release(TopicLayout.ModifiedWrites, (ulong)++_modifiedWrites);
        }
        else
        {
            _region.WriteUInt64Release(TopicLayout.FullWrites, (ulong)++_fullWrites);
        }
        Publish(slot, size);
        published = true;
        return WriteStatus.Success;
    }

    /// <summary>Loans a slot for a sample of up to <paramref name="maxLength"/> bytes, waiting at most the acknowledge timeout.</summary>
    /// <exception cref="TimeoutException">Every slot stayed held by subscribers for the acknowledge timeout.</exception>
    public FrameLoan Loan(int maxLength, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryLoan(maxLength, out FrameLoan loan, _options.AcknowledgeTimeout, cancellationToken);
        ThrowForStatus(status, _options.AcknowledgeTimeout);
        return loan;
    }

    /// <summary>
    /// Loans a slot for a sample of up to <paramref name="maxLength"/> bytes if one is free or frees up within
    /// <paramref name="timeout"/>: fill it in place, then <see cref="FrameLoan.Commit"/> the bytes written (or abandon it).
    /// </summary>
    /// <exception cref="InvalidOperationException">A loan is already open.</exception>
    /// <exception cref="FrameTooLargeException">The loan is larger than <see cref="MaxSampleSize"/>.</exception>
    public WriteStatus TryLoan(int maxLength, out FrameLoan loan, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        CheckLength(maxLength);
        WriteStatus status = AcquireSlot(timeout, cancellationToken, out int slot);
        if (status != WriteStatus.Success)
        {
            loan = default;
            return status;
        }
        loan = OpenLoan(slot, maxLength);
        return WriteStatus.Success;
    }

    private FrameLoan OpenLoan(int slot, int maxLength)
    {
        _loanSlot = slot;
        // The loan will change the slot's bytes: it no longer holds the previous sample for certain.
        _lastSlot = -1;
        return _loans.Open(_geometry.SlotDataOffset(slot), maxLength);
    }

    void ILoanPublisher.PublishLoan(long offset, int length) => Publish(_loanSlot, length);

    private void ThrowIfLoanOpen()
    {
        if (_loans.IsOpen)
        {
            throw new InvalidOperationException($"A loan is open on topic '{Topic}': commit or abandon it before writing or loaning again.");
        }
    }

    private void CheckLength(int length)
    {
        if (length <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A sample must hold at least one byte.");
        }
        if (length > _geometry.SlotCapacity)
        {
            if (!_options.AllowGrowth || length > MaxSlotCapacity)
            {
                throw new FrameTooLargeException(
                    $"A sample of {length} bytes does not fit topic '{Topic}': this publisher's slots take at most {_geometry.SlotCapacity} bytes" +
                    (_options.AllowGrowth ? $" and grow to at most {MaxSlotCapacity} bytes. Split the sample." :
                        ". Create the publisher with a larger PublisherOptions.MaxSampleSize, or with AllowGrowth."));
            }
            Grow(length);
        }
    }

    private void ThrowForStatus(WriteStatus status, TimeSpan timeout)
    {
        if (status == WriteStatus.TimedOut)
        {
            throw new TimeoutException(
                $"No slot of topic '{Topic}' became free within {timeout.TotalMilliseconds:0.###} ms: every slot is held by a subscriber " +
                "that has not released it. Have subscribers release samples sooner, or give the publisher more slots.");
        }
        if (status != WriteStatus.Success)
        {
            throw ThrowHelper.WriteFailed(status, Topic, timeout);
        }
    }

    /// <summary>Finds a slot to write, dropping the oldest queued samples if none is free, and waiting only if every slot is held.</summary>
    private WriteStatus AcquireSlot(TimeSpan timeout, CancellationToken cancellationToken, out int slot)
    {
        if (TryGetSlot(out slot))
        {
            return WriteStatus.Success;
        }
        return WaitForSlot(timeout, cancellationToken, out slot);
    }

    private WriteStatus WaitForSlot(TimeSpan timeout, CancellationToken cancellationToken, out int slot)
    {
        WriteStatus status = WaitForFreeSlot(timeout, cancellationToken, out slot);
        // Subscribers that asked to block the publisher have had their acknowledge timeout: as a last resort, their oldest go.
        return status == WriteStatus.TimedOut && DropOldestUntilFree(includeBlocking: true, out slot) ? WriteStatus.Success : status;
    }

    private WriteStatus WaitForFreeSlot(TimeSpan timeout, CancellationToken cancellationToken, out int slot)
    {
        Interlocked.Increment(ref _activeWaits);
        var waiter = new Waiter(_options.WaitStrategy, timeout, _options.PeerCheckInterval, _slotReleased, cancellationToken);
        try
        {
            // Every slot is held: a subscriber that died holding some gives them back now, not at the next periodic check.
            ReclaimDeparted(checkLiveness: true);
            while (true)
            {
                if (TryGetSlot(out slot))
                {
                    return WriteStatus.Success;
                }
                if (_disposed)
                {
                    ThrowHelper.ThrowObjectDisposed(nameof(Publisher));
                }
                if (waiter.PeerCheckDue())
                {
                    ReclaimDeparted(checkLiveness: true);
                }
                if (!waiter.Wait())
                {
                    return TryGetSlot(out slot) ? WriteStatus.Success : WriteStatus.TimedOut;
                }
            }
        }
        finally
        {
            waiter.Dispose();
            Interlocked.Decrement(ref _activeWaits);
        }
    }

    /// <summary>One look for a slot: a free one (the previous sample's first), else the oldest queued samples are dropped until one is free.</summary>
    private bool TryGetSlot(out int slot)
    {
        ReclaimDeparted(checkLiveness: Environment.TickCount64 >= _nextLivenessCheck);
        if (_lastSlot >= 0 && Holders(_lastSlot) == 0)
        {
            slot = _lastSlot;
            return true;
        }
        for (int i = 0; i < _geometry.SlotCount; i++)
        {
            int candidate = (_nextSearch + i) % _geometry.SlotCount;
            if (Holders(candidate) == 0)
            {
                _nextSearch = (candidate + 1) % _geometry.SlotCount;
                slot = candidate;
                return true;
            }
        }
        return DropOldestUntilFree(includeBlocking: false, out slot);
    }

    /// <summary>
    /// Drops queued samples, oldest first (the smallest sequence at the head of any subscriber's queue), until one slot has
    /// no holder; false when every queue is empty and every slot is still held. Queues of subscribers that block the
    /// publisher are left alone unless <paramref name="includeBlocking"/>.
    /// </summary>
    private bool DropOldestUntilFree(bool includeBlocking, out int slot)
    {
        while (true)
        {
            int oldestEntry = -1;
            ulong oldestHead = 0;
            ulong oldestSequence = ulong.MaxValue;
            for (int i = 0; i < _geometry.MaxSubscribers; i++)
            {
                if (_segment.EntryStateOf(i) != EntryState.Active || (!includeBlocking && Blocks(i)))
                {
                    continue;
                }
                ulong head = _region.ReadUInt64Acquire(_segment.HeadOffset(i));
                if (QueuedCount(i, _region.ReadUInt64(_segment.TailOffset(i)), head) == 0)
                {
                    continue;
                }
                ulong sequence = _region.ReadUInt64(_geometry.SlotOffset(QueuedSlot(i, head)) + TopicLayout.SlotSequence);
                if (sequence < oldestSequence)
                {
                    (oldestEntry, oldestHead, oldestSequence) = (i, head, sequence);
                }
            }
            if (oldestEntry < 0)
            {
                slot = -1;
                return false;
            }
            int dropped = DropHead(oldestEntry, oldestHead);
            if (dropped >= 0 && Holders(dropped) == 0)
            {
                slot = dropped;
                return true;
            }
        }
    }

    /// <summary>
    /// Takes the entry at <paramref name="head"/> of a subscriber's queue away from it, unless the subscriber took it first;
    /// returns the dropped slot, or -1.
    /// </summary>
    private int DropHead(int entry, ulong head)
    {
        // The slot index at head stays put until this publisher's tail laps it, so it can be read before the race.
        int slot = QueuedSlot(entry, head);
        if (!_region.CompareAndSetUInt64(_segment.HeadOffset(entry), head, head + 1))
        {
            return -1;
        }
        ClearHolders(slot, 1UL << entry);
        _region.AddAndGetUInt64(_segment.DroppedOffset(entry), 1);
        _dropped++;
        return slot;
    }

    /// <summary>
    /// The slot index at <paramref name="position"/> of subscriber <paramref name="entry"/>'s queue. Checked: a joining
    /// subscriber writes its queue itself, so the value may name no slot (a hostile or broken subscriber).
    /// </summary>
    /// <exception cref="BufferCorruptedException">It names no slot.</exception>
    private int QueuedSlot(int entry, ulong position)
    {
        uint slot = _segment.QueuedSlot(entry, position);
        if (slot >= (uint)_geometry.SlotCount)
        {
            ThrowCorrupt($"subscriber queue {entry} names slot {slot} of {_geometry.SlotCount}");
        }
        return (int)slot;
    }

    /// <summary>
    /// Samples queued for subscriber <paramref name="entry"/>: <paramref name="tail"/> - <paramref name="head"/>. Checked:
    /// subscribers move head, and a head past the tail or more than the depth behind it would make a full queue endless.
    /// </summary>
    /// <exception cref="BufferCorruptedException">More than the queue's depth.</exception>
    private ulong QueuedCount(int entry, ulong tail, ulong head)
    {
        ulong count = tail - head;
        if (count > (ulong)_geometry.QueueDepth)
        {
            ThrowCorrupt($"subscriber queue {entry} runs from position {head} to {tail}, more than its depth {_geometry.QueueDepth}");
        }
        return count;
    }

    /// <summary>The slot kept at a history ring position (read back from shared memory, so checked like a queue's).</summary>
    private int KeptSlot(long ringOffset)
    {
        uint slot = _region.ReadUInt32Acquire(ringOffset);
        if (slot >= (uint)_geometry.SlotCount)
        {
            ThrowCorrupt($"its history ring names slot {slot} of {_geometry.SlotCount}");
        }
        return (int)slot;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowCorrupt(string what) => throw TopicSegment.Corrupt(_owned.Name, what);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Holders(int slot) => _region.ReadUInt64Acquire(_segment.HoldersOffset(slot));

    /// <summary>Clears <paramref name="bits"/> in a slot's holders word (atomically: subscribers clear theirs and set them too).</summary>
    private void ClearHolders(int slot, ulong bits)
    {
        long offset = _segment.HoldersOffset(slot);
        while (true)
        {
            ulong holders = _region.ReadUInt64Acquire(offset);
            if ((holders & bits) == 0 || _region.CompareAndSetUInt64(offset, holders, holders & ~bits))
            {
                return;
            }
        }
    }

    private bool Blocks(int entry) => (_segment.EntryFlagsOf(entry) & EntryFlags.BlockPublisher) != 0;

    /// <summary>
    /// Publishes slot <paramref name="slot"/> (its bytes written): metadata, holders = the subscribers present, the slot's
    /// index appended to each one's queue (dropping its oldest if full), each one woken.
    /// </summary>
    private void Publish(int slot, int length)
    {
        long meta = _geometry.SlotOffset(slot);
        ulong sequence = _sequence++;
        _region.WriteUInt64(meta + TopicLayout.SlotSequence, sequence);
        _region.WriteUInt64(meta + TopicLayout.SlotLength, (ulong)length);
        long timestamp = _nextTimestamp != 0 ? _nextTimestamp : (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        _nextTimestamp = 0;
        _region.WriteUInt64(meta + TopicLayout.SlotTimestamp, (ulong)timestamp);
        ulong present = 0;
        for (int i = 0; i < _geometry.MaxSubscribers; i++)
        {
            switch (_segment.EntryStateOf(i))
            {
                case EntryState.Active:
                    present |= 1UL << i;
                    break;
                case EntryState.Leaving:
                    Reclaim(i, dead: false);
                    break;
            }
        }
        // Holders first: once an entry is in a queue its subscriber may take, read and release it at once.
        bool keep = _options.History > 0;
        _region.WriteUInt64Release(_segment.HoldersOffset(slot), present | (keep ? TopicLayout.HistoryBit : 0));
        // Subscribers new since the previous publish queued what was kept when they joined; what was kept after that
        // (published before this publish saw them) goes to their queues first.
        ulong joined = keep ? present & ~_previousPresent : 0;
        _previousPresent = present;
        for (int i = 0; present != 0; i++, present >>= 1, joined >>= 1)
        {
            if ((present & 1) == 0)
            {
                continue;
            }
            if ((joined & 1) != 0)
            {
                QueueKeptSinceJoin(i);
            }
            Enqueue(i, slot);
            NamedSemaphore? semaphore = SemaphoreOf(i);
            if (semaphore is not null && semaphore.Value <= 0)
            {
                semaphore.Post();
            }
        }
        if (keep)
        {
            KeepInHistory(slot);
        }
        _region.WriteUInt64Release(TopicLayout.Published, sequence);
        _published++;
        _lastSlot = slot;
        _lastLength = length;
    }

    /// <summary>
    /// Appends slot <paramref name="slot"/> to subscriber <paramref name="entry"/>'s queue; when the queue is full, first
    /// waits for room (a subscriber that blocks the publisher), then drops its oldest.
    /// </summary>
    private void Enqueue(int entry, int slot)
    {
        ulong depth = (ulong)_geometry.QueueDepth;
        ulong tail = _region.ReadUInt64(_segment.TailOffset(entry));
        if (QueuedCount(entry, tail, _region.ReadUInt64Acquire(_segment.HeadOffset(entry))) >= depth && Blocks(entry))
        {
            WaitForQueueRoom(entry, tail, depth);
        }
        ulong head;
        while (QueuedCount(entry, tail, head = _region.ReadUInt64Acquire(_segment.HeadOffset(entry))) >= depth)
        {
            // A full queue: its oldest sample goes (a slow subscriber never slows the others).
            DropHead(entry, head);
        }
        _segment.SetQueuedSlot(entry, tail, slot);
        // release [sample-queued]: pairs with the subscriber's acquire load of tail; the slot's bytes, metadata and the
        // queue entry are visible to it.
        _region.WriteUInt64Release(_segment.TailOffset(entry), tail + 1);
    }

    /// <summary>
    /// Queues for subscriber <paramref name="entry"/>, seen active for the first time, the kept samples it did not see when
    /// it queued the history itself: those at positions from its "history from" on (not the one being published).
    /// </summary>
    private void QueueKeptSinceJoin(int entry)
    {
        long fromOffset = _geometry.EntryOffset(entry) + TopicLayout.EntryHistoryFrom;
        ulong bit = 1UL << entry;
        ulong oldestKept = _historyHead - Math.Min(_historyHead, (ulong)_options.History);
        for (ulong position = Math.Max(_region.ReadUInt64Acquire(fromOffset), oldestKept); position < _historyHead; position++)
        {
            int kept = KeptSlot(HistoryPosition(position));
            if (!TryHoldKept(kept, bit))
            {
                continue; // the subscriber holds it (it claimed it itself)
            }
            // acquire [history-scanned]: the subscriber may have claimed this one itself, read it and let it go already.
            if (_region.ReadUInt64Acquire(fromOffset) > position)
            {
                ClearHolders(kept, bit);
                continue;
            }
            Enqueue(entry, kept);
        }
    }

    /// <summary>Sets <paramref name="bit"/> in a kept slot's holders word, unless it is set already or the slot is no longer kept.</summary>
    private bool TryHoldKept(int slot, ulong bit)
    {
        long offset = _segment.HoldersOffset(slot);
        while (true)
        {
            ulong holders = _region.ReadUInt64Acquire(offset);
            if ((holders & TopicLayout.HistoryBit) == 0 || (holders & bit) != 0)
            {
                return false;
            }
            if (_region.CompareAndSetUInt64(offset, holders, holders | bit))
            {
                return true;
            }
        }
    }

    private long HistoryPosition(ulong position) => TopicLayout.HistoryRing + 4 * (long)(position % (ulong)_options.History);

    /// <summary>
    /// Keeps the newest sample for late joiners: its slot joins the history ring (its holders word already has the history
    /// bit) and the oldest kept sample, pushed out, loses the bit (its slot is free once no subscriber holds it).
    /// </summary>
    private void KeepInHistory(int slot)
    {
        long entry = HistoryPosition(_historyHead);
        if (_historyHead >= (ulong)_options.History)
        {
            ClearHolders(KeptSlot(entry), TopicLayout.HistoryBit);
        }
        _region.WriteUInt32Release(entry, (uint)slot);
        // release [history-kept]: pairs with a joining subscriber's acquire load of the history head.
        _region.WriteUInt64Release(TopicLayout.HistoryHead, ++_historyHead);
    }

    /// <summary>
    /// Subscriber <paramref name="entry"/> asked to block the publisher rather than lose samples: wait, at most the acknowledge
    /// timeout, for it to take one from its full queue (it posts this publisher's semaphore when it takes).
    /// </summary>
    private void WaitForQueueRoom(int entry, ulong tail, ulong depth)
    {
        Interlocked.Increment(ref _queueWaits);
        var waiter = new Waiter(_options.WaitStrategy, _options.AcknowledgeTimeout, _options.PeerCheckInterval, _slotReleased, CancellationToken.None);
        try
        {
            while (tail - _region.ReadUInt64Acquire(_segment.HeadOffset(entry)) >= depth && _segment.EntryStateOf(entry) == EntryState.Active)
            {
                if (waiter.PeerCheckDue() && !_segment.Subscriber(entry).IsHeldByLiveProcess(_platform))
                {
                    return;
                }
                if (!waiter.Wait())
                {
                    return;
                }
            }
        }
        finally
        {
            waiter.Dispose();
        }
    }

    /// <summary>The semaphore of subscriber entry <paramref name="entry"/>, opened once per subscriber; null if it is gone.</summary>
    private NamedSemaphore? SemaphoreOf(int entry)
    {
        ulong id = _segment.EntryId(entry);
        ref SubscriberLink link = ref _subscribers[entry];
        if (link.Id != id || link.Semaphore is null)
        {
            link.Semaphore?.Dispose();
            link.Id = id;
            link.Pid = _segment.Subscriber(entry).Read().Pid;
            link.Semaphore = id == 0 ? null : SafeOpen(_names.SubscriberSemaphore(link.Pid, id));
        }
        return link.Semaphore;
    }

    private NamedSemaphore? SafeOpen(string semaphore)
    {
        try
        {
            return _platform.OpenSemaphore(semaphore);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Takes back the entries of subscribers that left and, with <paramref name="checkLiveness"/>, of those that died: their
    /// bits in every slot and their queue. Also called on every write for entries marked leaving.
    /// </summary>
    private void ReclaimDeparted(bool checkLiveness)
    {
        if (checkLiveness)
        {
            _nextLivenessCheck = Environment.TickCount64 + (long)_options.PeerCheckInterval.TotalMilliseconds;
            CheckInherited();
        }
        for (int i = 0; i < _geometry.MaxSubscribers; i++)
        {
            EntryState state = _segment.EntryStateOf(i);
            if (state == EntryState.Leaving)
            {
                Reclaim(i, dead: false);
            }
            else if (checkLiveness && _segment.Subscriber(i).Pid != 0 && !_segment.Subscriber(i).IsHeldByLiveProcess(_platform))
            {
                // Active, or claimed and not yet active (a joiner that died while queueing the kept samples).
                Reclaim(i, dead: true);
            }
        }
    }

    private void Reclaim(int entry, bool dead)
    {
        _previousPresent &= ~(1UL << entry);
        for (int slot = 0; slot < _geometry.SlotCount; slot++)
        {
            ClearHolders(slot, 1UL << entry);
        }
        _region.WriteUInt64Release(_segment.HeadOffset(entry), _region.ReadUInt64(_segment.TailOffset(entry)));
        _region.WriteUInt64Release(_segment.DroppedOffset(entry), 0);
        ProcessIdentity holder = _segment.Subscriber(entry).Read();
        ulong id = _segment.EntryId(entry);
        _segment.SetEntryId(entry, 0);
        _segment.SetEntryState(entry, EntryState.Free);
        // The claim goes last: a new subscriber can only claim the entry once everything above is done.
        _segment.Subscriber(entry).TryClear(holder);
        ref SubscriberLink link = ref _subscribers[entry];
        link.Semaphore?.Dispose();
        link = default;
        if (dead && id != 0)
        {
            TopicCleaner.RemoveSubscriberIfStale(_platform, _names.SubscriberSemaphore(holder.Pid, id), holder.Pid);
        }
        // A publisher waiting for a slot looks again.
        _slotReleased.Post();
    }
}
