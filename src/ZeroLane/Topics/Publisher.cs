using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Topics;

/// <summary>
/// Publishes samples on a topic, in place in shared memory of its own, to every subscriber of the topic at once: each
/// sample is written once and read in place by all of them. Start and stop publishers and subscribers in any order; they
/// find each other through /dev/shm (no daemon).
/// </summary>
/// <remarks>
/// Design (layout in <see cref="TopicLayout"/>): the publisher owns a segment of slots. To publish it writes a free slot
/// (one no subscriber has queued or holds), sets the slot's holders word to the bits of the subscribers present, and
/// appends the slot's index to each one's queue, dropping that subscriber's oldest queued sample if its queue is full
/// (a slow subscriber never slows the others). A write prefers the slot that holds the previous sample, so a payload
/// writer can update it in place (<see cref="IPayloadWriter.WriteModified"/>) whenever subscribers have let go of it.
/// When no slot is free, the oldest queued samples are dropped until one is; only when every slot is held (read and not
/// released) does the write wait, at most the acknowledge timeout. Subscribers that leave or die are found at the next
/// write (leaving) or liveness check, and their bits and queue are taken back then: no shared lock is ever held that a
/// dead process could leave locked. One writing thread at a time.
/// </remarks>
public sealed partial class Publisher : IFrameSink, ILoanPublisher, IDisposable
{
    private readonly IIpcPlatform _platform;
    private readonly TopicNames _names;
    private readonly PublisherOptions _options;
    private readonly ProcessIdentity _self;
    private OwnedSegment _owned;
    private TopicGeometry _geometry;
    private NamedSemaphore _slotReleased;
    private MappedRegion _region;
    private TopicSegment _segment;
    private LoanTracker _loans;
    private readonly AsyncSemaphoreWait _asyncWait;
    private readonly SubscriberLink[] _subscribers;

    private int _loanSlot = -1;
    private int _lastSlot = -1;
    private int _lastLength;
    private int _nextSearch;
    private ulong _sequence = 1;
    private long _nextLivenessCheck;
    private long _published;
    private long _fullWrites;
    private long _modifiedWrites;
    private long _dropped;
    private ulong _historyHead;
    private ulong _previousPresent;
    private long _queueWaits;
    private long _forwardLost;
    private long _nextTimestamp;
    private volatile bool _disposed;
    private int _activeWaits;
    private int _asyncBusy;

    /// <summary>Starts publishing on <paramref name="topic"/>: creates this publisher's shared memory, which subscribers then find.</summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public Publisher(string topic, PublisherOptions? options = null)
        : this(topic, options ?? new PublisherOptions(), IpcPlatform.Current)
    {
    }

    internal Publisher(string topic, PublisherOptions options, IIpcPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(options);
        _names = TopicNames.Create(topic);
        Validate(options);
        _options = options;
        _platform = platform;
        _self = platform.CurrentProcess;
        Id = TopicNames.NewId();
        var geometry = new TopicGeometry(options.MaxSubscribers, options.Slots, TopicGeometry.Align(options.MaxSampleSize, TopicLayout.Alignment), options.QueueDepth);
        _subscribers = new SubscriberLink[options.MaxSubscribers];
        _asyncWait = new AsyncSemaphoreWait("ZeroLane publisher " + topic);
        TopicCleaner.RemoveStale(platform, _names);
        OwnedSegment owned = OwnedSegment.Create(platform, _names, _self, Id, Id, predecessor: 0, geometry, options.History, options.Permissions);
        ulong waiting;
        try
        {
            MarkForwarded(owned);
            waiting = PreregisterWaitingSubscribers(owned);
            owned.Open(options.Permissions);
        }
        catch
        {
            owned.Dispose();
            throw;
        }
        Use(owned);
        _previousPresent = waiting;
        _nextLivenessCheck = Environment.TickCount64 + (long)options.PeerCheckInterval.TotalMilliseconds;
    }

    /// <summary>For a gateway's publisher, flags a new segment forwarded, with the origin and the count lost so far (13.2).</summary>
    private void MarkForwarded(OwnedSegment owned)
    {
        if (_options.ForwardedFrom != 0)
        {
            owned.Region.WriteUInt64(TopicLayout.ForwardedFrom, _options.ForwardedFrom);
            owned.Region.WriteUInt64(TopicLayout.ForwardLost, (ulong)_forwardLost);
            owned.Region.WriteUInt32Release(TopicLayout.PublisherFlags, TopicLayout.PublisherFlagForwarded);
        }
    }

    /// <summary>
    /// Gateways: counts <paramref name="samples"/> more of the origin's samples as lost on the way, in the segment's header
    /// where <see cref="TopicInspector"/> (and <c>zerolane topics</c>) read it.
    /// </summary>
    internal void AddForwardLost(long samples)
    {
        ThrowIfDisposed();
        _forwardLost += samples;
        _region.WriteUInt64Release(TopicLayout.ForwardLost, (ulong)_forwardLost);
    }

    /// <summary>Gateways: the next sample published carries this timestamp (the origin's) instead of the time now.</summary>
    internal void SetNextTimestamp(long nanosecondsSinceEpoch) => _nextTimestamp = nanosecondsSinceEpoch;

    /// <summary>Makes <paramref name="owned"/> the segment this publisher writes.</summary>
    [MemberNotNull(nameof(_owned), nameof(_slotReleased), nameof(_region), nameof(_loans))]
    private void Use(OwnedSegment owned)
    {
        _owned = owned;
        _geometry = owned.Geometry;
        _region = owned.Region;
        _segment = owned.Segment;
        _slotReleased = owned.SlotReleased;
        _loans = new LoanTracker(_region, _geometry.DataOffset, _geometry.SlotCount * _geometry.SlotCapacity, this);
        _lastSlot = -1;
        _nextSearch = 0;
    }

    /// <summary>The topic's name.</summary>
    public string Topic => _names.Topic;

    /// <summary>This publisher's ID: unique among the topic's publishers, and what subscribers see in <see cref="Sample.PublisherId"/>.</summary>
    public ulong Id { get; }

    /// <summary>The largest sample this publisher takes now without growing, in bytes.</summary>
    public int MaxSampleSize => (int)_geometry.SlotCapacity;

    string IFrameSink.Name => Topic;

    int IFrameSink.MaxFrameLength => MaxSampleSize;

    /// <summary>Subscribers present now (joined and not left).</summary>
    public int SubscriberCount
    {
        get
        {
            ThrowIfDisposed();
            int count = 0;
            for (int i = 0; i < _geometry.MaxSubscribers; i++)
            {
                if (_segment.EntryStateOf(i) == EntryState.Active)
                {
                    count++;
                }
            }
            return count;
        }
    }

    /// <summary>Samples published.</summary>
    public long SamplesPublished => Volatile.Read(ref _published);

    /// <summary>Samples written whole by a payload writer (<see cref="IPayloadWriter.WriteFull"/>).</summary>
    public long FullWrites => Volatile.Read(ref _fullWrites);

    /// <summary>Samples written by updating the previous one in place (<see cref="IPayloadWriter.WriteModified"/>).</summary>
    public long ModifiedWrites => Volatile.Read(ref _modifiedWrites);

    /// <summary>Queued samples dropped, summed over subscribers (a subscriber's oldest, when its queue or the slots ran out).</summary>
    public long SamplesDropped => Volatile.Read(ref _dropped);

    /// <summary>Times a write waited for room in the queue of a subscriber that blocks the publisher (a test's signal).</summary>
    internal long QueueWaits => Volatile.Read(ref _queueWaits);

    private static void Validate(PublisherOptions options)
    {
        if (options.MaxSampleSize < 1 || options.MaxSampleSize > int.MaxValue - (int)TopicLayout.Alignment)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSampleSize, "MaxSampleSize must be at least 1 byte and below 2 GiB.");
        }
        if (options.Slots is < 1 or > 1 << 16)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Slots, "Slots must be from 1 to 65,536.");
        }
        if (options.MaxSubscribers is < 1 or > TopicLayout.MaxSubscriberEntries)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSubscribers, $"MaxSubscribers must be from 1 to {TopicLayout.MaxSubscriberEntries}.");
        }
        if (options.History < 0 || options.History > TopicLayout.MaxHistory || (options.History > 0 && options.Slots <= options.History))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.History,
                $"History must be from 0 to {TopicLayout.MaxHistory}, and Slots must be more than History (kept samples pin their slots).");
        }
        if (options.QueueDepth is < 1 or > 1 << 16)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.QueueDepth, "QueueDepth must be from 1 to 65,536.");
        }
        if (options.AcknowledgeTimeout < TimeSpan.Zero && options.AcknowledgeTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.AcknowledgeTimeout, "AcknowledgeTimeout must be 0 or more, or infinite.");
        }
        if (options.PeerCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PeerCheckInterval, "PeerCheckInterval must be positive.");
        }
    }

    /// <summary>A subscriber entry as this publisher knows it: the semaphore it posts when it queues a sample there.</summary>
    private struct SubscriberLink
    {
        internal ulong Id;
        internal int Pid;
        internal NamedSemaphore? Semaphore;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(Publisher));
        }
    }

    /// <summary>
    /// Stops publishing: marks the segment closed (subscribers read what is queued for them, then learn that this publisher
    /// left), and removes its name and semaphore. Subscribers still mapping it keep its pages until they let go. After the
    /// publisher grew, waits (at most the acknowledge timeout) for subscribers still reading an older segment to move on.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _slotReleased.Post();
        _asyncWait.Dispose();
        ActiveWaits.WaitUntilNone(ref _activeWaits, _slotReleased);
        _loans.Close();
        // A segment this publisher grew out of stays until its subscribers have moved to the newer one (bounded).
        AwaitInheritors();
        _owned.Close();
        for (int i = 0; i < _subscribers.Length; i++)
        {
            if (_segment.EntryStateOf(i) == EntryState.Active)
            {
                SemaphoreOf(i)?.Post();
            }
            _subscribers[i].Semaphore?.Dispose();
        }
        foreach (OwnedSegment retired in _retired)
        {
            retired.Dispose();
        }
        _retired.Clear();
        _owned.Dispose();
    }
}
