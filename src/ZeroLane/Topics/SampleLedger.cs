using ZeroLane.Ipc;

namespace ZeroLane.Topics;

/// <summary>
/// The samples a subscriber holds, by ticket: which publisher's slot each one is, so that its frame reads the bytes in
/// place and its release clears the subscriber's bit in that slot. Samples are released in any order.
/// </summary>
/// <remarks>
/// Design: a fixed table of <c>MaxHeld</c> entries; a ticket is a generation number times 256 plus its entry's index, so
/// a ticket of a released sample never matches the entry's next occupant. Taking and releasing happen under
/// <see cref="Sync"/>; <see cref="GetSpan"/> reads the entry without it and checks the ticket.
/// </remarks>
internal sealed class SampleLedger : FrameOwner
{
    /// <summary>Most samples held at once: the index is the ticket's low byte.</summary>
    internal const int MaxEntries = 255;

    private readonly Entry[] _entries;
    private readonly Action<PublisherLink> _linkIdle;
    private long _generation;
    private volatile bool _closed;

    internal SampleLedger(int capacity, Action<PublisherLink> linkIdle)
    {
        _entries = new Entry[capacity];
        _linkIdle = linkIdle;
    }

    internal object Sync { get; } = new();

    /// <summary>Samples held now.</summary>
    internal int Count { get; private set; }

    internal int Capacity => _entries.Length;

    /// <summary>Records a sample taken from <paramref name="link"/>'s slot. Caller holds <see cref="Sync"/> and has checked there is room.</summary>
    internal long AddUnsynchronized(PublisherLink link, int slot, long offset, int length)
    {
        for (int i = 0; i < _entries.Length; i++)
        {
            ref Entry entry = ref _entries[i];
            if (entry.Link is null)
            {
                long ticket = (++_generation << 8) | (long)i;
                entry.Slot = slot;
                entry.Offset = offset;
                entry.Length = length;
                entry.Memory = null;
                entry.Link = link;
                Volatile.Write(ref entry.Ticket, ticket);
                link.Held++;
                Count++;
                return ticket;
            }
        }
        throw new InvalidOperationException("No room to hold another sample.");
    }

    internal override ReadOnlySpan<byte> GetSpan(long ticket)
    {
        ref Entry entry = ref _entries[(int)(ticket & 0xFF) % _entries.Length];
        PublisherLink? link = entry.Link;
        if (_closed || link is null || Volatile.Read(ref entry.Ticket) != ticket)
        {
            ThrowHelper.ThrowFrameReleased();
        }
        return link.Region.GetSpan(entry.Offset, entry.Length);
    }

    internal override ReadOnlyMemory<byte> GetMemory(long ticket)
    {
        lock (Sync)
        {
            ref Entry entry = ref _entries[(int)(ticket & 0xFF) % _entries.Length];
            if (_closed || entry.Link is null || entry.Ticket != ticket)
            {
                ThrowHelper.ThrowFrameReleased();
            }
            entry.Memory ??= entry.Link.Region.CreateMemoryManager(entry.Offset, entry.Length);
            return entry.Memory.Memory;
        }
    }

    internal override bool IsReleased(long ticket)
    {
        ref Entry entry = ref _entries[(int)(ticket & 0xFF) % _entries.Length];
        return _closed || entry.Link is null || Volatile.Read(ref entry.Ticket) != ticket;
    }

    internal override void Release(long ticket)
    {
        lock (Sync)
        {
            ref Entry entry = ref _entries[(int)(ticket & 0xFF) % _entries.Length];
            PublisherLink? link = entry.Link;
            if (_closed || link is null || entry.Ticket != ticket)
            {
                return;
            }
            int slot = entry.Slot;
            entry.Memory?.Invalidate();
            entry = default;
            Count--;
            link.Held--;
            link.ReleaseSlot(slot);
            if (link.Ended && link.Held == 0)
            {
                _linkIdle(link);
            }
        }
    }

    /// <summary>Ends every sample: they read as released, memory handed out throws. Caller holds <see cref="Sync"/>.</summary>
    internal void CloseUnsynchronized()
    {
        _closed = true;
        for (int i = 0; i < _entries.Length; i++)
        {
            _entries[i].Memory?.Invalidate();
            _entries[i] = default;
        }
        Count = 0;
    }

    private struct Entry
    {
        internal long Ticket;
        internal PublisherLink? Link;
        internal int Slot;
        internal long Offset;
        internal int Length;
        internal MappedRegion.RegionMemoryManager? Memory;
    }
}
