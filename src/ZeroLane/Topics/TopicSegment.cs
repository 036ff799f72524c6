using System.Runtime.CompilerServices;
using ZeroLane.Ipc;

namespace ZeroLane.Topics;

/// <summary>
/// Typed access to a mapped publisher segment (its layout is <see cref="TopicLayout"/>): the header, the subscriber
/// entries and their queues, the slots. Offsets come from the geometry, which <see cref="Validate"/> checks against the
/// mapping before anything else is read, so a corrupt or hostile header cannot make an access fall outside it.
/// </summary>
internal readonly struct TopicSegment
{
    internal TopicSegment(MappedRegion region, TopicGeometry geometry)
    {
        Region = region;
        Geometry = geometry;
    }

    internal MappedRegion Region { get; }

    internal TopicGeometry Geometry { get; }

    internal PeerSlot Publisher => new(Region, TopicLayout.PublisherPid, TopicLayout.PublisherStartTime);

    internal SegmentState State => (SegmentState)Region.ReadUInt32Acquire(TopicLayout.State);

    internal PeerSlot Subscriber(int entry) =>
        new(Region, Geometry.EntryOffset(entry) + TopicLayout.EntryPid, Geometry.EntryOffset(entry) + TopicLayout.EntryStartTime);

    internal EntryState EntryStateOf(int entry) => (EntryState)Region.ReadUInt32Acquire(Geometry.EntryOffset(entry) + TopicLayout.EntryState);

    internal void SetEntryState(int entry, EntryState state) =>
        Region.WriteUInt32Release(Geometry.EntryOffset(entry) + TopicLayout.EntryState, (uint)state);

    internal ulong EntryId(int entry) => Region.ReadUInt64Acquire(Geometry.EntryOffset(entry) + TopicLayout.EntryId);

    internal void SetEntryId(int entry, ulong id) => Region.WriteUInt64Release(Geometry.EntryOffset(entry) + TopicLayout.EntryId, id);

    internal EntryFlags EntryFlagsOf(int entry) => (EntryFlags)Region.ReadUInt32Acquire(Geometry.EntryOffset(entry) + TopicLayout.EntryFlags);

    internal void SetEntryFlags(int entry, EntryFlags flags) =>
        Region.WriteUInt32Release(Geometry.EntryOffset(entry) + TopicLayout.EntryFlags, (uint)flags);

    /// <summary>
    /// Ends an inherited entry's wait (<see cref="EntryFlags.Inherited"/>) in one compare-and-set of its state and flags
    /// words together: the subscriber takes it over (<paramref name="next"/> = active) or the publisher lets it go (leaving),
    /// whichever comes first. False if the entry is not an active inherited one (any more).
    /// </summary>
    internal bool TryEndInheritance(int entry, EntryState next)
    {
        // The state word and the flags word that follows it, as one little-endian u64 (8-byte aligned in every entry).
        long offset = Geometry.EntryOffset(entry) + TopicLayout.EntryState;
        ulong word = Region.ReadUInt64Acquire(offset);
        var flags = (EntryFlags)(uint)(word >> 32);
        if ((EntryState)(uint)word != EntryState.Active || (flags & EntryFlags.Inherited) == 0)
        {
            return false;
        }
        ulong updated = (uint)next | ((ulong)(uint)(flags & ~EntryFlags.Inherited) << 32);
        return Region.CompareAndSetUInt64(offset, word, updated);
    }

    internal long HeadOffset(int entry) => Geometry.EntryOffset(entry) + TopicLayout.EntryHead;

    internal long TailOffset(int entry) => Geometry.EntryOffset(entry) + TopicLayout.EntryTail;

    internal long DroppedOffset(int entry) => Geometry.EntryOffset(entry) + TopicLayout.EntryDropped;

    /// <summary>The slot index queued at position <paramref name="position"/> of entry <paramref name="entry"/>'s queue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint QueuedSlot(int entry, ulong position) =>
        Region.ReadUInt32Acquire(Geometry.QueueOffset(entry) + 4 * (long)(position % (ulong)Geometry.QueueDepth));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetQueuedSlot(int entry, ulong position, int slot) =>
        Region.WriteUInt32Release(Geometry.QueueOffset(entry) + 4 * (long)(position % (ulong)Geometry.QueueDepth), (uint)slot);

    internal long HoldersOffset(int slot) => Geometry.SlotOffset(slot) + TopicLayout.SlotHolders;

    internal int HistoryCapacity => (int)Region.ReadUInt32Acquire(TopicLayout.HistoryCapacity);

    /// <summary>
    /// Checks a segment's header and returns its geometry: magic, version, ready state, sizes that are in range and fit
    /// the mapping.
    /// </summary>
    /// <returns>Null while the publisher is still creating the segment.</returns>
    /// <exception cref="IncompatibleBufferException">Not a ZeroLane topic segment of a version this library reads.</exception>
    /// <exception cref="BufferCorruptedException">The sizes are impossible or do not fit the segment.</exception>
    internal static TopicGeometry? Validate(MappedRegion region, string name)
    {
        if (region.Length < TopicLayout.HeaderSize)
        {
            return null;
        }
        // acquire [segment-ready]: pairs with the publisher's release store of the state word; every header field is set.
        var state = (SegmentState)region.ReadUInt32Acquire(TopicLayout.State);
        if (state == SegmentState.Creating)
        {
            return null;
        }
        if (region.ReadUInt32Acquire(TopicLayout.Magic) != TopicLayout.MagicValue)
        {
            throw new IncompatibleBufferException($"Topic segment '{name}' does not start with ZeroLane's topic magic; it is not a topic segment or was corrupted.");
        }
        uint version = region.ReadUInt32Acquire(TopicLayout.Version) & 0xFFFF;
        if (version != TopicLayout.VersionValue)
        {
            throw new IncompatibleBufferException($"Topic segment '{name}' has layout version {version}; this ZeroLane reads version {TopicLayout.VersionValue}.");
        }
        uint subscribers = region.ReadUInt32Acquire(TopicLayout.MaxSubscribers);
        uint slots = region.ReadUInt32Acquire(TopicLayout.SlotCount);
        ulong capacity = region.ReadUInt64Acquire(TopicLayout.SlotCapacity);
        uint depth = region.ReadUInt32Acquire(TopicLayout.QueueDepth);
        uint history = region.ReadUInt32Acquire(TopicLayout.HistoryCapacity);
        if (history > TopicLayout.MaxHistory || (history > 0 && history >= slots))
        {
            throw Corrupt(name, $"its header keeps {history} samples of history in {slots} slots (at most {TopicLayout.MaxHistory}, and fewer than the slots)");
        }
        if (subscribers is 0 or > TopicLayout.MaxSubscriberEntries || slots is 0 or > 1u << 20 || depth is 0 or > 1u << 16 ||
            capacity is 0 or > int.MaxValue || capacity % TopicLayout.Alignment != 0 || (state != SegmentState.Open && state != SegmentState.Closed))
        {
            throw Corrupt(name, $"its header says {subscribers} subscriber entries, {slots} slots of {capacity} bytes, queues of {depth}, state {(uint)state}");
        }
        var geometry = new TopicGeometry((int)subscribers, (int)slots, (long)capacity, (int)depth);
        if (geometry.TotalSize > region.Length)
        {
            throw Corrupt(name, $"its layout needs {geometry.TotalSize} bytes but the segment has {region.Length}");
        }
        return geometry;
    }

    internal static BufferCorruptedException Corrupt(string name, string what) =>
        new($"Topic segment '{name}' is corrupted: {what}. Its publisher must recreate it (dispose and start the publisher again).");
}
