using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Topics;

/// <summary>
/// A publisher segment as its publisher owns it: the shared memory mapped, the flock that marks its owner alive, and the
/// "slot released" semaphore. A publisher has one at a time, and keeps the ones it grew out of while subscribers still
/// need them (see <see cref="Publisher"/>'s growth).
/// </summary>
internal sealed class OwnedSegment : IDisposable
{
    private readonly IIpcPlatform _platform;
    private readonly SharedMemory _memory;
    private readonly FileLock _ownerLock;
    private NamedSemaphore? _slotReleased;
    private bool _disposed;

    private OwnedSegment(IIpcPlatform platform, string name, ulong id, SharedMemory memory, FileLock ownerLock, MappedRegion region, TopicGeometry geometry)
    {
        _platform = platform;
        Name = name;
        Id = id;
        _memory = memory;
        _ownerLock = ownerLock;
        Region = region;
        Segment = new TopicSegment(region, geometry);
    }

    /// <summary>The shm name, <c>zlt.TOPIC.p.PID.ID</c>.</summary>
    internal string Name { get; }

    /// <summary>The ID in the name.</summary>
    internal ulong Id { get; }

    internal MappedRegion Region { get; }

    internal TopicSegment Segment { get; }

    internal TopicGeometry Geometry => Segment.Geometry;

    /// <summary>The semaphore subscribers post when they release a slot; there once <see cref="Open"/> has run.</summary>
    internal NamedSemaphore SlotReleased => _slotReleased ?? throw new InvalidOperationException("The segment is not open yet.");

    /// <summary>
    /// Creates segment <paramref name="id"/> of <paramref name="publisherId"/> and writes its header, all but the state word:
    /// subscribers leave it alone until <see cref="Open"/>.
    /// </summary>
    internal static OwnedSegment Create(
        IIpcPlatform platform, TopicNames names, ProcessIdentity self, ulong id, ulong publisherId, ulong predecessor,
        TopicGeometry geometry, int history, UnixFileMode permissions, long fullWrites = 0, long modifiedWrites = 0)
    {
        string name = names.PublisherSegment(self.Pid, id);
        SharedMemory memory = platform.CreateSharedMemory(name, geometry.TotalSize, permissions);
        FileLock? ownerLock = null;
        MappedRegion? region = null;
        try
        {
            // Held while the segment lives: a segment whose lock anyone can take belongs to a publisher that is gone.
            ownerLock = platform.TryAcquireLock(TopicNames.SegmentPath(name), permissions)
                ?? throw new IOException($"The new topic segment '{name}' is locked by another process.");
            region = new MappedRegion(memory.Mapping);
            var owned = new OwnedSegment(platform, name, id, memory, ownerLock, region, geometry);
            owned.InitializeHeader(self, publisherId, predecessor, history, fullWrites, modifiedWrites);
            return owned;
        }
        catch
        {
            region?.Dispose();
            memory.Dispose();
            if (ownerLock is not null)
            {
                ownerLock.Dispose(); // removes the segment's name
            }
            else
            {
                platform.RemoveSharedMemory(name);
            }
            throw;
        }
    }

    private void InitializeHeader(ProcessIdentity self, ulong publisherId, ulong predecessor, int history, long fullWrites, long modifiedWrites)
    {
        // The memory is zero-filled (every slot free, every entry free). The state word is written last, by Open.
        Region.WriteUInt32Release(TopicLayout.Magic, TopicLayout.MagicValue);
        Region.WriteUInt32Release(TopicLayout.Version, TopicLayout.VersionValue | ((uint)TopicLayout.HeaderSize << 16));
        Segment.Publisher.Initialize(self);
        Region.WriteUInt32Release(TopicLayout.MaxSubscribers, (uint)Geometry.MaxSubscribers);
        Region.WriteUInt32Release(TopicLayout.SlotCount, (uint)Geometry.SlotCount);
        Region.WriteUInt64(TopicLayout.SlotCapacity, (ulong)Geometry.SlotCapacity);
        Region.WriteUInt32Release(TopicLayout.QueueDepth, (uint)Geometry.QueueDepth);
        Region.WriteUInt64(TopicLayout.PublisherId, publisherId);
        Region.WriteUInt64(TopicLayout.Predecessor, predecessor);
        Region.WriteUInt64(TopicLayout.FullWrites, (ulong)fullWrites);
        Region.WriteUInt64(TopicLayout.ModifiedWrites, (ulong)modifiedWrites);
        Region.WriteUInt32Release(TopicLayout.HistoryCapacity, (uint)history);
    }

    /// <summary>
    /// Makes the segment visible: the state word (open), then the semaphore, whose appearance in /dev/shm is what tells
    /// watching subscribers the publisher is ready.
    /// </summary>
    internal void Open(UnixFileMode permissions)
    {
        // release [segment-ready]: pairs with the subscriber's acquire load of the state word in TopicSegment.Validate.
        Region.WriteUInt32Release(TopicLayout.State, (uint)SegmentState.Open);
        _slotReleased = _platform.CreateSemaphore(TopicNames.PublisherSemaphore(Name), permissions);
    }

    /// <summary>Marks the segment closed: subscribers read what is queued for them, then go (or follow its successor).</summary>
    internal void Close() =>
        // release [segment-closed]
        Region.WriteUInt32Release(TopicLayout.State, (uint)SegmentState.Closed);

    /// <summary>Removes the segment's name and semaphore and unmaps it; subscribers still mapping it keep its pages.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Segment.Publisher.Vacate();
        _ownerLock.Dispose(); // removes the segment's name
        Region.Dispose();
        _memory.Dispose();
        if (_slotReleased is null)
        {
            return;
        }
        _slotReleased.Dispose();
        try
        {
            _platform.RemoveSemaphore(TopicNames.PublisherSemaphore(Name));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the stale cleanup of the next participant.
        }
    }
}
