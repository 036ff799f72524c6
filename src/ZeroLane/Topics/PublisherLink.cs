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

    internal PublisherLink(string segmentName, SharedMemory memory, MappedRegion region, TopicSegment segment, int entry, NamedSemaphore? slotReleased)
    {
        SegmentName = segmentName;
        _memory = memory;
        Region = region;
        Segment = segment;
        Entry = entry;
        _slotReleased = slotReleased;
        PublisherId = region.ReadUInt64Acquire(TopicLayout.PublisherId);
        Bit = 1UL << entry;
    }

    internal string SegmentName { get; }

    internal MappedRegion Region { get; }

    internal TopicSegment Segment { get; }

    internal int Entry { get; }

    internal ulong Bit { get; }

    internal ulong PublisherId { get; }

    /// <summary>Samples taken from this publisher and not yet released.</summary>
    internal int Held { get; set; }

    /// <summary>The publisher was seen closed (false) or dead (true); null while it is there.</summary>
    internal bool? GoneDead { get; set; }

    /// <summary>Gone and drained: no more samples come from this link; it is disposed once <see cref="Held"/> is 0.</summary>
    internal bool Ended { get; set; }

    /// <summary>True while the entry's queue holds samples not yet taken.</summary>
    internal bool HasQueued =>
        Region.ReadUInt64Acquire(Segment.HeadOffset(Entry)) != Region.ReadUInt64Acquire(Segment.TailOffset(Entry));

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
        if (GoneDead is null && Segment.State == SegmentState.Open)
        {
            Segment.SetEntryState(Entry, EntryState.Leaving);
            _slotReleased?.Post();
        }
        _slotReleased?.Dispose();
        Region.Dispose();
        _memory.Dispose();
    }
}
