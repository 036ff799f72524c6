using ZeroLane.Ipc;
using ZeroLane.Posix;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// A publisher's segment mapped by the test (read and write), to check its accounting word by word or to corrupt it:
/// subscriber entries, queues, slots' holders and metadata, the history ring. Offsets come from <see cref="TopicLayout"/>.
/// </summary>
internal sealed class PublisherSegmentView : IDisposable
{
    private readonly SharedMemory _memory;

    private PublisherSegmentView(string name, SharedMemory memory, MappedRegion region, TopicGeometry geometry)
    {
        Name = name;
        _memory = memory;
        Region = region;
        Geometry = geometry;
    }

    internal string Name { get; }

    internal MappedRegion Region { get; }

    internal TopicGeometry Geometry { get; }

    /// <summary>Maps the segment of an in-process publisher.</summary>
    internal static PublisherSegmentView Of(Publisher publisher) =>
        Open(TopicNames.Create(publisher.Topic).PublisherSegment(Environment.ProcessId, publisher.Id));

    /// <summary>Maps the only publisher segment of <paramref name="topic"/> (for example a child process's).</summary>
    internal static PublisherSegmentView OnlyOf(string topic) => Open(Assert.Single(TopicNames.Create(topic).FindPublishers()).Segment);

    internal static PublisherSegmentView Open(string name)
    {
        SharedMemory memory = SharedMemory.TryOpen(name, writable: true) ?? throw new FileNotFoundException($"No publisher segment '{name}'.");
        var region = new MappedRegion(memory.Mapping);
        try
        {
            TopicGeometry geometry = TopicSegment.Validate(region, name) ?? throw new InvalidOperationException($"Segment '{name}' is not ready.");
            return new PublisherSegmentView(name, memory, region, geometry);
        }
        catch
        {
            region.Dispose();
            memory.Dispose();
            throw;
        }
    }

    internal ulong Published => Region.ReadUInt64Acquire(TopicLayout.Published);

    internal int HistoryCapacity => (int)Region.ReadUInt32Acquire(TopicLayout.HistoryCapacity);

    internal ulong HistoryHead => Region.ReadUInt64Acquire(TopicLayout.HistoryHead);

    internal uint HistoryRingSlot(ulong position) => Region.ReadUInt32Acquire(TopicLayout.HistoryRing + 4 * (long)(position % (ulong)HistoryCapacity));

    internal long EntryField(int entry, int field) => Geometry.EntryOffset(entry) + field;

    internal ulong EntryPid(int entry) => Region.ReadUInt64Acquire(EntryField(entry, TopicLayout.EntryPid));

    internal ulong EntryId(int entry) => Region.ReadUInt64Acquire(EntryField(entry, TopicLayout.EntryId));

    internal EntryState EntryStateOf(int entry) => (EntryState)Region.ReadUInt32Acquire(EntryField(entry, TopicLayout.EntryState));

    internal ulong Head(int entry) => Region.ReadUInt64Acquire(EntryField(entry, TopicLayout.EntryHead));

    internal ulong Tail(int entry) => Region.ReadUInt64Acquire(EntryField(entry, TopicLayout.EntryTail));

    internal ulong Dropped(int entry) => Region.ReadUInt64Acquire(EntryField(entry, TopicLayout.EntryDropped));

    internal long QueuePosition(int entry, ulong position) => Geometry.QueueOffset(entry) + 4 * (long)(position % (ulong)Geometry.QueueDepth);

    /// <summary>The slot indices queued for an entry, head first.</summary>
    internal List<int> Queued(int entry)
    {
        var slots = new List<int>();
        for (ulong position = Head(entry); position != Tail(entry); position++)
        {
            slots.Add((int)Region.ReadUInt32Acquire(QueuePosition(entry, position)));
        }
        return slots;
    }

    internal long SlotField(int slot, int field) => Geometry.SlotOffset(slot) + field;

    internal ulong Holders(int slot) => Region.ReadUInt64Acquire(SlotField(slot, TopicLayout.SlotHolders));

    internal ulong Sequence(int slot) => Region.ReadUInt64Acquire(SlotField(slot, TopicLayout.SlotSequence));

    internal ulong Length(int slot) => Region.ReadUInt64Acquire(SlotField(slot, TopicLayout.SlotLength));

    internal ReadOnlySpan<byte> Data(int slot) => Region.GetSpan(Geometry.SlotDataOffset(slot), (int)Length(slot));

    /// <summary>The slot that holds sample <paramref name="sequence"/>, or -1.</summary>
    internal int SlotOf(ulong sequence)
    {
        for (int slot = 0; slot < Geometry.SlotCount; slot++)
        {
            if (Sequence(slot) == sequence)
            {
                return slot;
            }
        }
        return -1;
    }

    public void Dispose()
    {
        Region.Dispose();
        _memory.Dispose();
    }
}
