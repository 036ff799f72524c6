using System.Runtime.CompilerServices;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Topics;

/// <summary>
/// Reads the samples every publisher of a topic sends, in place in their shared memory. Start it before or after the
/// publishers: it joins each one as it appears (at once, through a watch on /dev/shm) and keeps reading when publishers
/// come and go.
/// </summary>
/// <remarks>
/// Design: the subscriber claims an entry in each publisher's segment and takes samples from that entry's queue by
/// advancing its head with compare-and-set (the publisher may drop the oldest entry at the same moment; one of the two
/// wins). A taken sample's slot keeps the subscriber's bit set in the slot's holders word until the sample is released,
/// so the publisher never writes it meanwhile. Every publisher posts this subscriber's one semaphore when it queues a
/// sample, so one wait covers them all; samples are taken from the publishers in turn. Reads run on one thread at a time;
/// samples may be released from any thread.
/// </remarks>
public sealed partial class Subscriber : IFrameSource, IDisposable
{
    private readonly IIpcPlatform _platform;
    private readonly TopicNames _names;
    private readonly SubscriberOptions _options;
    private readonly ProcessIdentity _self;
    private readonly string _semaphoreName;
    private readonly NamedSemaphore _queued;
    private readonly FileLock _ownerLock;
    private readonly List<PublisherLink> _links = new();
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);
    private readonly SampleLedger _samples;
    private readonly AsyncSemaphoreWait _asyncWait;
    private readonly IDisposable _watch;
    private int _next;
    private volatile bool _scanRequested = true;
    private volatile bool _disposed;
    private int _activeWaits;
    private int _asyncBusy;
    private long _received;

    // Serialises the /dev/shm watch's wake-ups with Dispose, so none posts a semaphore already closed.
    private readonly object _wakeSync = new();

    /// <summary>Subscribes to <paramref name="topic"/>, joining every publisher it has now and every one that comes later.</summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="BufferCorruptedException">A publisher's segment of the topic holds impossible values (it names the segment).</exception>
    /// <exception cref="IncompatibleBufferException">A publisher's segment of the topic is not a topic segment this version reads.</exception>
    public Subscriber(string topic, SubscriberOptions? options = null)
        : this(topic, options ?? new SubscriberOptions(), IpcPlatform.Current)
    {
    }

    internal Subscriber(string topic, SubscriberOptions options, IIpcPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(options);
        _names = TopicNames.Create(topic);
        if (options.MaxHeld is < 1 or > SampleLedger.MaxEntries)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxHeld, $"MaxHeld must be from 1 to {SampleLedger.MaxEntries}.");
        }
        if (options.PeerCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PeerCheckInterval, "PeerCheckInterval must be positive.");
        }
        if (!Enum.IsDefined(options.Overflow))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Overflow, "Overflow must be DropOldest or BlockPublisher.");
        }
        _options = options;
        _platform = platform;
        _self = platform.CurrentProcess;
        // Bit 1 of the ID says, in the semaphore's name, that this subscriber blocks the publisher: a publisher that makes
        // it an entry before it has joined (it was there first) knows from the start.
        Id = (TopicNames.NewId() & ~TopicNames.BlocksPublisherBit) | (options.Overflow == OverflowPolicy.BlockPublisher ? TopicNames.BlocksPublisherBit : 0);
        _semaphoreName = _names.SubscriberSemaphore(_self.Pid, Id);
        _samples = new SampleLedger(options.MaxHeld, OnLinkIdle);
        _asyncWait = new AsyncSemaphoreWait("ZeroLane subscriber " + topic);
        TopicCleaner.RemoveStale(platform, _names);
        NamedSemaphore queued = platform.CreateSemaphore(_semaphoreName, options.Permissions);
        try
        {
            // Held for this subscriber's lifetime: a semaphore whose lock anyone can take belongs to a subscriber that is gone.
            _ownerLock = platform.TryAcquireLock(TopicNames.SemaphorePath(_semaphoreName), options.Permissions)
                ?? throw new IOException($"The new subscriber semaphore '{_semaphoreName}' is locked by another process.");
        }
        catch
        {
            queued.Dispose();
            platform.RemoveSemaphore(_semaphoreName);
            throw;
        }
        _queued = queued;
        // A publisher creates its semaphore last, once its segment is ready: that file's appearance is the signal.
        _watch = SharedMemoryWatch.Watch($"sem.zlt.{topic}.p.", OnPublisherAppeared);
        try
        {
            lock (_samples.Sync)
            {
                JoinNewPublishersUnsynchronized();
            }
        }
        catch
        {
            // A publisher segment that cannot be used (corrupt, incompatible): the caller never gets this object to dispose.
            Dispose();
            throw;
        }
    }

    /// <summary>The topic's name.</summary>
    public string Topic => _names.Topic;

    /// <summary>This subscriber's ID.</summary>
    public ulong Id { get; }

    string IFrameSource.Name => Topic;

    /// <summary>Publishers this subscriber is attached to that are still publishing (not seen closed or dead).</summary>
    public int PublisherCount
    {
        get
        {
            lock (_samples.Sync)
            {
                return _links.Count(link => !link.Ended && link.GoneDead is null && link.Segment.State == SegmentState.Open);
            }
        }
    }

    /// <summary>Samples read.</summary>
    public long SamplesRead => Volatile.Read(ref _received);

    /// <summary>Samples read and not yet released.</summary>
    public int SamplesHeld
    {
        get
        {
            lock (_samples.Sync)
            {
                return _samples.Count;
            }
        }
    }

    /// <summary>
    /// Samples the publishers dropped from this subscriber's queues (its oldest, when it fell behind). Kept samples that a
    /// publisher pushed out of its history while this subscriber was joining are not counted: history is what is still kept.
    /// </summary>
    public long SamplesDropped
    {
        get
        {
            lock (_samples.Sync)
            {
                long dropped = 0;
                foreach (PublisherLink link in _links)
                {
                    dropped += (long)link.Region.ReadUInt64Acquire(link.Segment.DroppedOffset(link.Entry));
                }
                return dropped;
            }
        }
    }

    /// <summary>Asynchronous waits started so far (a test's signal that a read is waiting).</summary>
    internal long AsyncWaitsStarted => _asyncWait.WaitsStarted;

    /// <summary>
    /// A publisher segment of the topic appeared: join it now, on the watch's thread, so that samples it publishes before
    /// this subscriber's next read are queued for it too.
    /// </summary>
    private void OnPublisherAppeared()
    {
        lock (_samples.Sync)
        {
            if (_disposed)
            {
                return;
            }
            try
            {
                JoinNewPublishersUnsynchronized();
            }
            catch (Exception e) when (e is ZeroLaneException or IOException or UnauthorizedAccessException)
            {
                // A bad segment: the next read's look meets the same error and reports it to the reader.
                _scanRequested = true;
            }
        }
        lock (_wakeSync)
        {
            if (!_disposed)
            {
                _queued.Post();
            }
        }
    }

    /// <summary>Takes the next queued sample of any publisher, in turn; never waits. Caller holds the ledger's lock.</summary>
    private bool TryTakeUnsynchronized(out Sample sample)
    {
        int count = _links.Count;
        for (int k = 0; k < count; k++)
        {
            int index = (_next + k) % count;
            PublisherLink link = _links[index];
            if (link.Ended)
            {
                continue;
            }
            link.SettleHistory();
            if (link.TryPeekPending(out int kept))
            {
                sample = TakeSlot(link, index, kept);
                link.PendingTaken();
                return true;
            }
            TopicSegment segment = link.Segment;
            long headOffset = segment.HeadOffset(link.Entry);
            while (true)
            {
                // acquire [sample-queued]: pairs with the publisher's release store of tail.
                ulong tail = link.Region.ReadUInt64Acquire(segment.TailOffset(link.Entry));
                ulong head = link.Region.ReadUInt64Acquire(headOffset);
                if (head == tail)
                {
                    break;
                }
                if (tail - head > (ulong)segment.Geometry.QueueDepth)
                {
                    throw TopicSegment.Corrupt(link.SegmentName, $"subscriber queue {link.Entry} holds {tail - head} samples, more than its depth {segment.Geometry.QueueDepth}");
                }
                if (_samples.Count == _samples.Capacity)
                {
                    ThrowTooManyHeld();
                }
                uint slot = segment.QueuedSlot(link.Entry, head);
                if (!link.Region.CompareAndSetUInt64(headOffset, head, head + 1))
                {
                    continue; // the publisher dropped it just now
                }
                if (slot >= segment.Geometry.SlotCount)
                {
                    throw TopicSegment.Corrupt(link.SegmentName, $"a queue holds slot {slot} of {segment.Geometry.SlotCount}");
                }
                link.WakePublisherIfBlocked();
                sample = TakeSlot(link, index, (int)slot);
                return true;
            }
        }
        sample = default;
        return false;
    }

    /// <summary>Turns slot <paramref name="slot"/> of <paramref name="link"/>, which this subscriber's bit holds, into a sample it holds.</summary>
    private Sample TakeSlot(PublisherLink link, int index, int slot)
    {
        if (_samples.Count == _samples.Capacity)
        {
            ThrowTooManyHeld();
        }
        TopicSegment segment = link.Segment;
        long meta = segment.Geometry.SlotOffset(slot);
        ulong length = link.Region.ReadUInt64(meta + TopicLayout.SlotLength);
        if (length == 0 || length > (ulong)segment.Geometry.SlotCapacity)
        {
            throw TopicSegment.Corrupt(link.SegmentName, $"slot {slot} says {length} bytes, its capacity is {segment.Geometry.SlotCapacity}");
        }
        ulong sequence = link.Region.ReadUInt64(meta + TopicLayout.SlotSequence);
        long timestamp = (long)link.Region.ReadUInt64(meta + TopicLayout.SlotTimestamp);
        long ticket = _samples.AddUnsynchronized(link, slot, segment.Geometry.SlotDataOffset(slot), (int)length);
        _next = (index + 1) % _links.Count;
        _received++;
        return new Sample(new Frame(_samples, ticket, sequence, (int)length), link.PublisherId, timestamp, link.Forwarded);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowTooManyHeld() =>
        throw new InvalidOperationException(
            $"This subscriber holds {_samples.Capacity} samples of topic '{Topic}' (SubscriberOptions.MaxHeld): release one before reading the next.");

    /// <summary>
    /// After a look found no sample: joins new publishers (when asked to, or at a peer check), and ends the links of
    /// publishers that left or died once their queues are drained. Returns what to tell the reader: Success (nothing),
    /// WriterDied (a publisher died), or WriterDisconnected (the last publisher left). Caller holds the ledger's lock.
    /// </summary>
    private ReadStatus LookAroundUnsynchronized(bool peerCheckDue)
    {
        if (peerCheckDue || _scanRequested)
        {
            _scanRequested = false;
            JoinNewPublishersUnsynchronized();
        }
        ReadStatus status = ReadStatus.Success;
        bool anyEnded = false;
        for (int i = _links.Count - 1; i >= 0; i--)
        {
            PublisherLink link = _links[i];
            if (link.Ended)
            {
                continue;
            }
            if (link.GoneDead is null)
            {
                if (link.Segment.State == SegmentState.Closed)
                {
                    link.GoneDead = false;
                }
                else if (peerCheckDue && !link.Segment.Publisher.IsHeldByLiveProcess(_platform))
                {
                    link.GoneDead = true;
                }
            }
            // A publisher that left or died publishes nothing more, so what it queued stays readable: read it first.
            if (link.GoneDead is bool dead && !link.HasQueued)
            {
                if (!dead && TryFollow(link, i))
                {
                    continue;
                }
                link.Ended = true;
                anyEnded = true;
                if (dead)
                {
                    status = ReadStatus.WriterDied;
                    TopicCleaner.RemoveStale(_platform, _names);
                }
                else if (status == ReadStatus.Success)
                {
                    status = ReadStatus.WriterDisconnected;
                }
                if (link.Held == 0)
                {
                    OnLinkIdle(link);
                }
            }
        }
        if (status == ReadStatus.WriterDisconnected && _links.Any(link => !link.Ended))
        {
            // Another publisher is still there: one leaving is not the end of the stream.
            status = ReadStatus.Success;
        }
        return anyEnded ? status : ReadStatus.Success;
    }

    /// <summary>
    /// The publisher of <paramref name="link"/>, read to the end, grew into a new segment: attaches to that one in the link's
    /// place (taking over the entry the publisher copied for this subscriber, or joining it). False if it has none, or it
    /// is gone. Caller holds the ledger's lock.
    /// </summary>
    private bool TryFollow(PublisherLink link, int index)
    {
        // acquire [segment-succeeded]: the successor was open before the publisher wrote its ID here.
        ulong successor = link.Region.ReadUInt64Acquire(TopicLayout.Successor);
        if (successor == 0)
        {
            return false;
        }
        string name = _names.PublisherSegment(link.PublisherPid, successor);
        if (_ignored.Contains(name) || _links.Exists(other => other.SegmentName == name) || TryJoin(name, link) is not PublisherLink next)
        {
            return false;
        }
        _links[index] = next;
        link.Ended = true;
        if (link.Held == 0)
        {
            OnLinkIdle(link);
        }
        // The wait that follows looks again at once: samples may be queued in the new segment already.
        _queued.Post();
        return true;
    }

    /// <summary>Attaches to every publisher of the topic not yet known. Caller holds the ledger's lock.</summary>
    private void JoinNewPublishersUnsynchronized()
    {
        var undecided = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string segment, _, _) in _names.FindPublishers())
        {
            if (!_ignored.Contains(segment) && !_links.Exists(link => link.SegmentName == segment))
            {
                undecided.Add(segment);
            }
        }
        // A segment a publisher grew into is looked at after the one it continues (which this subscriber may have to read
        // first): pass after pass, until a pass decides nothing more.
        bool decided = true;
        while (decided && undecided.Count > 0)
        {
            decided = false;
            foreach (string segment in undecided.ToArray())
            {
                TryJoin(segment, undecided: undecided);
                if (_ignored.Contains(segment) || _links.Exists(link => link.SegmentName == segment))
                {
                    undecided.Remove(segment);
                    decided = true;
                }
            }
        }
    }

    /// <summary>
    /// Attaches to publisher segment <paramref name="segmentName"/>: found by a look at /dev/shm (added to the links), or the
    /// successor of <paramref name="predecessor"/>'s segment (returned, for the caller to put in its place). Null if it
    /// cannot be joined now.
    /// </summary>
    private PublisherLink? TryJoin(string segmentName, PublisherLink? predecessor = null, HashSet<string>? undecided = null)
    {
        SharedMemory? memory;
        try
        {
            memory = _platform.OpenSharedMemory(segmentName, writable: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's publisher this one may not read: leave it alone.
            _ignored.Add(segmentName);
            return null;
        }
        if (memory is null)
        {
            return null;
        }
        MappedRegion? region = null;
        NamedSemaphore? slotReleased = null;
        try
        {
            region = new MappedRegion(memory.Mapping);
            TopicGeometry? geometry;
            try
            {
                geometry = TopicSegment.Validate(region, segmentName);
            }
            catch (ZeroLaneException)
            {
                // Not a segment we can use (incompatible or corrupt): never try it again.
                _ignored.Add(segmentName);
                throw;
            }
            if (geometry is null)
            {
                // Still being created: the next look joins it.
                Close(region, memory);
                return null;
            }
            var segment = new TopicSegment(region, geometry.Value);
            if (predecessor is null)
            {
                // A closed segment is still read if its publisher made an entry for this subscriber in it (it was there
                // before the publisher, which grew before the subscriber noticed it): its queue holds samples for it.
                bool open = segment.State == SegmentState.Open && segment.Publisher.IsHeldByLiveProcess(_platform);
                if (!open && !AwaitsThis(segment))
                {
                    _ignored.Add(segmentName);
                    Close(region, memory);
                    return null;
                }
                // A segment that continues one this subscriber reads is taken up once that one is read to the end; one
                // that continues a segment not looked at yet, after that look.
                ulong before = region.ReadUInt64Acquire(TopicLayout.Predecessor);
                string beforeName = _names.PublisherSegment(segment.Publisher.Read().Pid, before);
                if (before != 0 && (_links.Exists(link => !link.Ended && link.SegmentName == beforeName) || undecided?.Contains(beforeName) == true))
                {
                    Close(region, memory);
                    return null;
                }
            }
            // The publisher creates its semaphore last: until it exists the publisher is still starting. (A successor was
            // open before it was named; its semaphore is gone only if its publisher is gone too.)
            slotReleased = _platform.OpenSemaphore(TopicNames.PublisherSemaphore(segmentName));
            if (slotReleased is null && predecessor is null)
            {
                Close(region, memory);
                return null;
            }
            bool blocks = _options.Overflow == OverflowPolicy.BlockPublisher;
            // An entry the publisher made for this subscriber (it was there before the publisher, or before it grew).
            int entry = FindInherited(segment);
            bool inherited = entry >= 0;
            for (int i = 0; i < geometry.Value.MaxSubscribers && entry < 0; i++)
            {
                if (segment.Subscriber(i).TryClaimIfFree(_self))
                {
                    entry = i;
                }
            }
            if (entry < 0)
            {
                // Every entry is taken: try again at the next look (one may be freed).
                slotReleased?.Dispose();
                Close(region, memory);
                return null;
            }
            var link = new PublisherLink(segmentName, memory, region, segment, entry, slotReleased) { BlocksPublisher = blocks };
            if (inherited)
            {
                // Everything published in this segment was queued for the entry (and the history was read before, if any).
                segment.Subscriber(entry).Initialize(_self);
                segment.SetEntryFlags(entry, blocks ? EntryFlags.BlockPublisher : EntryFlags.None);
                if (predecessor is null)
                {
                    _links.Add(link);
                }
                return link;
            }
            segment.SetEntryId(entry, Id);
            segment.SetEntryFlags(entry, blocks ? EntryFlags.BlockPublisher : EntryFlags.None);
            try
            {
                // Kept samples first, into the queue while the publisher still leaves the entry alone.
                link.QueueHistory(includeKept: predecessor is null);
            }
            catch (BufferCorruptedException)
            {
                _ignored.Add(segmentName);
                segment.SetEntryState(entry, EntryState.Leaving);
                throw;
            }
            // release [subscriber-active]: the publisher queues samples for the entry from its next write on.
            segment.SetEntryState(entry, EntryState.Active);
            if (predecessor is null)
            {
                _links.Add(link);
            }
            try
            {
                // Claims at once what was kept since the look above, before the publisher pushes it out of its history.
                link.SettleHistory();
            }
            catch (BufferCorruptedException)
            {
                // The next read meets the same and reports it.
            }
            return link;
        }
        catch
        {
            slotReleased?.Dispose();
            if (region is not null)
            {
                Close(region, memory);
            }
            else
            {
                memory.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// The entry a publisher made for this subscriber in <paramref name="segment"/> (before opening it, or when it grew), now
    /// taken over; -1 if there is none (the subscriber came later) or the publisher let go of it.
    /// </summary>
    private int FindInherited(TopicSegment segment)
    {
        for (int i = 0; i < segment.Geometry.MaxSubscribers; i++)
        {
            if (segment.EntryId(i) == Id && segment.Subscriber(i).Read().Pid == _self.Pid && segment.TryEndInheritance(i, EntryState.Active))
            {
                return i;
            }
        }
        return -1;
    }

    private bool AwaitsThis(TopicSegment segment)
    {
        for (int i = 0; i < segment.Geometry.MaxSubscribers; i++)
        {
            if (segment.IsAwaited(i) && segment.EntryId(i) == Id && segment.Subscriber(i).Read().Pid == _self.Pid)
            {
                return true;
            }
        }
        return false;
    }

    private static void Close(MappedRegion region, SharedMemory memory)
    {
        region.Dispose();
        memory.Dispose();
    }

    /// <summary>A link that ended and holds no sample any more goes. Called with the ledger's lock held.</summary>
    private void OnLinkIdle(PublisherLink link)
    {
        _links.Remove(link);
        _ignored.Add(link.SegmentName);
        link.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(Subscriber));
        }
    }

    /// <summary>
    /// Leaves every publisher (each takes back this subscriber's queue and samples at its next write) and removes the
    /// subscriber's semaphore. Samples still held become invalid.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        lock (_samples.Sync)
        {
            lock (_wakeSync)
            {
                _disposed = true;
            }
        }
        _watch.Dispose();
        _queued.Post();
        _asyncWait.Dispose();
        ActiveWaits.WaitUntilNone(ref _activeWaits, _queued);
        lock (_samples.Sync)
        {
            _samples.CloseUnsynchronized();
            foreach (PublisherLink link in _links)
            {
                link.Dispose();
            }
            _links.Clear();
        }
        _ownerLock.Dispose();
        _queued.Dispose();
    }
}
