namespace ZeroLane.Topics;

/// <summary>
/// Byte layout of a publisher's shared memory segment (<c>/dev/shm/zlt.TOPIC.p.PID.ID</c>): a 256-byte header, a table of
/// subscriber entries, one queue of slot indices per subscriber entry, a table of slots, and the slots' data. All fields
/// are little-endian; every block starts on a 64-byte boundary, the data on a page.
/// </summary>
/// <remarks>
/// <code>
/// header (256 B)
///  0       4    6    8              16             24      28      32             40      44      48       56             64
///  +-------+----+----+--------------+--------------+-------+-------+--------------+-------+-------+--------+--------------+
///  | magic |ver |hsz | pub pid      | pub start    | subs  | slots | slot capacity| depth | state | rsvd   | publisher id |
///  +-------+----+----+--------------+--------------+-------+-------+--------------+-------+-------+--------+--------------+
///  64 history capacity (u32), 68 reserved, 72 successor (u64), 80 predecessor (u64), 88 published (u64), 96..127 reserved;
///  128 full writes (u64), 136 modified writes (u64),
///  144 history head (u64: samples ever kept), 152 history ring (capacity × u32 slot index, at most 26), ..255
/// subscriber entry i (192 B each, at 256 + 192 i)
///  0              8              16             24      28      32             40             48 .. 64
///  | sub pid      | sub start    | sub id       | state | flags | dropped      | history from | reserved  (flags: bit 0 = block the publisher, bit 1 = inherited)
///  64 head (u64), 72..127 reserved   (own cache line: taken by the subscriber; by the publisher when it drops)
///  128 tail (u64), 136..191 reserved (own cache line: filled by the publisher)
/// queue i (depth × u32 slot index, rounded up to 64 B), at QueuesOffset + i × QueueStride
/// slot s (64 B each), at SlotsOffset + 64 s
///  0              8              16             24 .. 64
///  | holders      | sequence     | length       | timestamp (UTC, ns since 1970) | reserved
/// data of slot s (slot capacity B), at DataOffset + s × SlotCapacity
/// </code>
/// Ownership: the publisher writes the header, the slots (metadata and data) and each entry's tail and dropped count;
/// a subscriber claims a free entry (its pid word, by compare-and-set), writes its id and state, and takes queue entries
/// by advancing head with compare-and-set; the publisher advances head the same way when it drops the oldest entry of a
/// full queue. A slot's <c>holders</c> word has bit i set while subscriber entry i has the slot queued or holds it, and
/// <see cref="HistoryBit"/> while the publisher keeps it for late joiners: a slot is free to write only while the word is
/// 0, so the publisher never writes a slot that a subscriber may be reading. Subscribers clear their bit (compare-and-set)
/// when they release; the publisher clears the bits of entries that left or died. A joining subscriber, after claiming an
/// entry and before making it active, queues the kept samples itself (setting its bit while the history bit is there,
/// and checking that position p still holds sequence p + 1), writes the entry's tail and "history from" (the history
/// head it read). Once active, it goes on claiming what the publisher kept since (in its own memory, not the queue) and
/// advances "history from" past each position it looked at; the publisher, the first time it sees the entry active,
/// queues what it kept from "history from" on, and gives a claimed slot back if "history from" moved past it meanwhile,
/// so each kept sample reaches the joiner exactly once. A publisher that grows moves to a new segment whose header names
/// its predecessor; it copies the kept samples and the active entries (flagged inherited) into it before opening it, then
/// writes the successor's ID into the old header and closes it. A subscriber reads the old queue to the end, then takes
/// its inherited entry over by one compare-and-set of the entry's state and flags words (the publisher lets go of an
/// entry the same way when its subscriber left the old segment first).
/// </remarks>
internal static class TopicLayout
{
    internal const int HeaderSize = 256;

    /// <summary>Publisher flag: a gateway republishes another host's samples here; gateways never export them again.</summary>
    internal const uint PublisherFlagForwarded = 1;

    internal const int Magic = 0;              // u32, MagicValue
    internal const int Version = 4;            // u16, 1
    internal const int HeaderSizeField = 6;    // u16, 256
    internal const int PublisherPid = 8;       // u64
    internal const int PublisherStartTime = 16; // u64
    internal const int MaxSubscribers = 24;    // u32
    internal const int SlotCount = 28;         // u32
    internal const int SlotCapacity = 32;      // u64
    internal const int QueueDepth = 40;        // u32
    internal const int State = 44;             // u32, SegmentState (written last by the publisher: the segment is ready)
    internal const int Published = 88;         // u64, sequence of the newest sample (off the state word's line: written per sample)
    internal const int PublisherId = 56;       // u64, the publisher's ID: the ID in its first segment's name (kept when it grows)
    internal const int HistoryCapacity = 64;   // u32, samples kept for late joiners (0 = none)
    internal const int PublisherFlags = 68;    // u32, PublisherFlagForwarded
    internal const int ForwardedFrom = 96;     // u64, forwarded publisher: the origin publisher's ID on its host
    internal const int ForwardLost = 104;      // u64, forwarded publisher: samples of the origin its gateway knows it missed
    internal const int Successor = 72;         // u64, ID of the segment this publisher moved to when it grew (0 = none)
    internal const int Predecessor = 80;       // u64, ID of the segment this one continues (0 = none)
    internal const int FullWrites = 128;       // u64
    internal const int ModifiedWrites = 136;   // u64
    internal const int HistoryHead = 144;      // u64, samples ever kept: the newest is at ring[(head - 1) % capacity]
    internal const int HistoryRing = 152;      // u32 × capacity

    /// <summary>Most samples a publisher keeps for late joiners (the ring must fit in the header).</summary>
    internal const int MaxHistory = (HeaderSize - HistoryRing) / 4;

    /// <summary>"ZLT1" as little-endian bytes.</summary>
    internal const uint MagicValue = 0x31544C5A;

    internal const ushort VersionValue = 1;

    internal const int EntrySize = 192;
    internal const int EntryPid = 0;
    internal const int EntryStartTime = 8;
    internal const int EntryId = 16;
    internal const int EntryState = 24;        // u32, EntryState
    internal const int EntryFlags = 28;        // u32, EntryFlags
    internal const int EntryDropped = 32;      // u64
    internal const int EntryHistoryFrom = 40;  // u64, the history head the subscriber read when it joined
    internal const int EntryHead = 64;         // u64, its own cache line: moved by the subscriber (and by the publisher when dropping)
    internal const int EntryTail = 128;        // u64, its own cache line: written by the publisher

    internal const int SlotEntrySize = 64;
    internal const int SlotHolders = 0;        // u64 bitmap
    internal const int SlotSequence = 8;       // u64
    internal const int SlotLength = 16;        // u64
    internal const int SlotTimestamp = 24;     // u64

    /// <summary>The holders bit the publisher sets while it keeps a slot's sample for late joiners.</summary>
    internal const ulong HistoryBit = 1UL << 63;

    /// <summary>Subscriber entries a segment can have: one holders bit each, below the history bit.</summary>
    internal const int MaxSubscriberEntries = 63;

    internal const long Alignment = 64;

    internal const long DataAlignment = 4096;
}

/// <summary>A segment's state word (<see cref="TopicLayout.State"/>).</summary>
internal enum SegmentState : uint
{
    /// <summary>Being created: not yet valid.</summary>
    Creating = 0,

    /// <summary>The publisher is there and publishing.</summary>
    Open = 1,

    /// <summary>The publisher disposed it: nothing more will be published; what is queued may still be read.</summary>
    Closed = 2,
}

/// <summary>A subscriber entry's state word (<see cref="TopicLayout.EntryState"/>).</summary>
internal enum EntryState : uint
{
    /// <summary>Nobody (the pid word is 0), or claimed and not yet set up.</summary>
    Free = 0,

    /// <summary>A subscriber takes samples from the entry's queue: the publisher queues every new sample for it.</summary>
    Active = 1,

    /// <summary>The subscriber left: the publisher clears its bits and frees the entry.</summary>
    Leaving = 2,
}

/// <summary>What a subscriber asks of the publisher (<see cref="TopicLayout.EntryFlags"/>).</summary>
[Flags]
internal enum EntryFlags : uint
{
    None = 0,

    /// <summary>When this subscriber's queue is full, the publisher waits (up to its acknowledge timeout) instead of dropping.</summary>
    BlockPublisher = 1,

    /// <summary>
    /// Set by a publisher that grew: the entry continues the subscriber's entry in the previous segment, and the subscriber
    /// takes it over (clearing this flag) once it has read that segment's queue to the end.
    /// </summary>
    Inherited = 2,
}

/// <summary>Where the blocks of a publisher segment lie, from its four sizes.</summary>
internal readonly record struct TopicGeometry(int MaxSubscribers, int SlotCount, long SlotCapacity, int QueueDepth)
{
    internal long EntriesOffset => TopicLayout.HeaderSize;

    internal long QueueStride => Align(QueueDepth * 4L, TopicLayout.Alignment);

    internal long QueuesOffset => Align(EntriesOffset + (long)MaxSubscribers * TopicLayout.EntrySize, TopicLayout.Alignment);

    internal long SlotsOffset => Align(QueuesOffset + MaxSubscribers * QueueStride, TopicLayout.Alignment);

    internal long DataOffset => Align(SlotsOffset + (long)SlotCount * TopicLayout.SlotEntrySize, TopicLayout.DataAlignment);

    internal long TotalSize => DataOffset + SlotCount * SlotCapacity;

    internal long EntryOffset(int subscriber) => EntriesOffset + (long)subscriber * TopicLayout.EntrySize;

    internal long QueueOffset(int subscriber) => QueuesOffset + subscriber * QueueStride;

    internal long SlotOffset(int slot) => SlotsOffset + (long)slot * TopicLayout.SlotEntrySize;

    internal long SlotDataOffset(int slot) => DataOffset + slot * SlotCapacity;

    internal static long Align(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
