using System.Runtime.CompilerServices;

namespace ZeroLane.Ipc;

/// <summary>Receives the credit a <see cref="CreditLedger"/> retires, to publish it to the writer.</summary>
internal interface ICreditSink
{
    /// <summary>
    /// Publishes retired items: <paramref name="credit"/> bytes freed, <paramref name="count"/> items finished with, and
    /// the position just after the last of them; <paramref name="wrapTail"/> is the largest tail of a wrap marker among
    /// them (0 if none), for the check of free bytes. Called with the ledger's lock held.
    /// </summary>
    void PublishCredit(long credit, ulong count, long endPosition, long wrapTail);
}

/// <summary>
/// The reading side's account of the items it has taken from a block of shared memory: items are taken in order,
/// handed out as tickets, released in any order, and their space is given back (credited) strictly in order.
/// </summary>
/// <remarks>
/// Design: a power-of-two table of slots indexed by ticket, from the oldest unretired ticket (the head) to the next one.
/// Releasing marks a slot; whenever the head is released, the run of released slots from the head is retired and its
/// credit, item count and end position go to the <see cref="ICreditSink"/> in one call. Items that are never handed out
/// (a wrap marker, a short tail) enter released, so their bytes are credited in order too. Holding an item therefore
/// never lets a later release free bytes before it: the writer cannot overwrite an item still held.
/// <para>
/// Taking, releasing and reading slots happen under <see cref="Sync"/> (one uncontended lock), except the span and
/// released checks of <see cref="GetSpan"/> and <see cref="IsReleased"/>, which read the slot without the lock: a ticket
/// is compared with the slot's own (a slot reused for a later ticket does not match) and the released flag is read with
/// acquire. The table grows only under the lock, and readers pick up the array reference first, so a stale array still
/// answers correctly for the tickets it held.
/// </para>
/// </remarks>
internal sealed class CreditLedger : FrameOwner
{
    private readonly MappedRegion _region;
    private readonly ICreditSink _sink;
    private Slot[] _slots = new Slot[64];
    private long _nextTicket;
    private long _headTicket;
    private volatile bool _closed;
    // Deferred publishing (DeferReleases): credit retired by releases, held until PublishDeferred.
    private bool _deferReleases;
    private long _deferredCredit;
    private ulong _deferredCount;
    private long _deferredEnd = -1;
    private long _deferredWrapTail;

    internal CreditLedger(MappedRegion region, ICreditSink sink)
    {
        _region = region;
        _sink = sink;
    }

    /// <summary>The lock under which items are taken and released.</summary>
    internal object Sync { get; } = new();

    /// <summary>Items handed out and not yet released.</summary>
    internal int HeldCount
    {
        get
        {
            lock (Sync)
            {
                int held = 0;
                for (long t = _headTicket; t < _nextTicket; t++)
                {
                    if (!_slots[t & (_slots.Length - 1)].Released)
                    {
                        held++;
                    }
                }
                return held;
            }
        }
    }

    /// <summary>
    /// Records an item handed out: <paramref name="length"/> bytes at <paramref name="dataOffset"/> in the region, worth
    /// <paramref name="credit"/> bytes and <paramref name="count"/> items once retired, ending at <paramref name="endPosition"/>.
    /// Caller holds <see cref="Sync"/>.
    /// </summary>
    internal long AddUnsynchronized(long dataOffset, int length, long credit, uint count, long endPosition) =>
        Add(dataOffset, length, credit, count, endPosition, released: false, wrapTail: 0);

    /// <summary>
    /// Records an item that is not handed out (a wrap marker, a short tail) and retires what it can; a wrap marker
    /// gives its tail as <paramref name="wrapTail"/>. Caller holds <see cref="Sync"/>.
    /// </summary>
    internal void AddReleasedUnsynchronized(long credit, uint count, long endPosition, long wrapTail = 0)
    {
        Add(0, 0, credit, count, endPosition, released: true, wrapTail);
        RetireUnsynchronized(deferrable: false);
    }

    private long Add(long dataOffset, int length, long credit, uint count, long endPosition, bool released, long wrapTail)
    {
        if (_nextTicket - _headTicket == _slots.Length)
        {
            Grow();
        }
        long ticket = _nextTicket++;
        ref Slot slot = ref _slots[ticket & (_slots.Length - 1)];
        slot.Ticket = ticket;
        slot.DataOffset = dataOffset;
        slot.Length = length;
        slot.Credit = credit;
        slot.Count = count;
        slot.EndPosition = endPosition;
        slot.WrapTail = wrapTail;
        slot.Memory = null;
        Volatile.Write(ref slot.Released, released);
        return ticket;
    }

    /// <summary>Releases a ticket; its credit (and that of released tickets after it) is published once every earlier one is released. Twice does nothing.</summary>
    internal override void Release(long ticket)
    {
        lock (Sync)
        {
            if (_closed || ticket < _headTicket || ticket >= _nextTicket)
            {
                return;
            }
            ref Slot slot = ref _slots[ticket & (_slots.Length - 1)];
            if (slot.Ticket != ticket || slot.Released)
            {
                return;
            }
            Volatile.Write(ref slot.Released, true);
            slot.Memory?.Invalidate();
            slot.Memory = null;
            if (ticket == _headTicket)
            {
                RetireUnsynchronized(deferrable: true);
            }
        }
    }

    /// <summary>True once the ticket is released (or the ledger closed).</summary>
    internal override bool IsReleased(long ticket)
    {
        if (_closed || ticket < Volatile.Read(ref _headTicket))
        {
            return true;
        }
        Slot[] slots = _slots;
        ref Slot slot = ref slots[ticket & (slots.Length - 1)];
        return slot.Ticket != ticket || Volatile.Read(ref slot.Released);
    }

    /// <summary>The ticket's bytes in place.</summary>
    /// <exception cref="ObjectDisposedException">The ticket was released (or the ledger closed).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal override ReadOnlySpan<byte> GetSpan(long ticket)
    {
        Slot[] slots = _slots;
        ref Slot slot = ref slots[ticket & (slots.Length - 1)];
        if (_closed || slot.Ticket != ticket || Volatile.Read(ref slot.Released) || ticket < _headTicket)
        {
            ThrowHelper.ThrowFrameReleased();
        }
        return _region.GetSpan(slot.DataOffset, slot.Length);
    }

    /// <summary>The ticket's bytes in place as memory; the first call per ticket allocates its memory manager.</summary>
    /// <exception cref="ObjectDisposedException">The ticket was released (or the ledger closed).</exception>
    internal override ReadOnlyMemory<byte> GetMemory(long ticket)
    {
        lock (Sync)
        {
            ref Slot slot = ref _slots[ticket & (_slots.Length - 1)];
            if (_closed || slot.Ticket != ticket || slot.Released || ticket < _headTicket)
            {
                ThrowHelper.ThrowFrameReleased();
            }
            slot.Memory ??= _region.CreateMemoryManager(slot.DataOffset, slot.Length);
            return slot.Memory.Memory;
        }
    }

    /// <summary>Ends the ledger: every ticket reads as released, memory handed out throws, releases do nothing.</summary>
    internal void Close()
    {
        _closed = true;
        lock (Sync)
        {
            for (long t = _headTicket; t < _nextTicket; t++)
            {
                _slots[t & (_slots.Length - 1)].Memory?.Invalidate();
            }
        }
    }

    /// <summary>
    /// Retires every released slot at the head, in order, and publishes their credit. Caller holds <see cref="Sync"/>.
    /// </summary>
    /// <remarks>
    /// Credit is published at every release that retires something, never held back for a batch: a reader may release an
    /// item and then stop reading for a while (or, in one thread, go on to write into the same full ring), and a writer
    /// must not wait on space that is free but unpublished. The one exception is an owner that asked for
    /// <see cref="DeferReleases"/> and publishes at its own points.
    /// </remarks>
    private void RetireUnsynchronized(bool deferrable)
    {
        long credit = 0;
        ulong count = 0;
        long endPosition = -1;
        long wrapTail = 0;
        if (_deferredEnd >= 0)
        {
            // Published together with what retires now (or kept back together, below).
            (credit, count, endPosition, wrapTail) = (_deferredCredit, _deferredCount, _deferredEnd, _deferredWrapTail);
            (_deferredCredit, _deferredCount, _deferredEnd, _deferredWrapTail) = (0, 0, -1, 0);
        }
        while (_headTicket < _nextTicket)
        {
            ref Slot slot = ref _slots[_headTicket & (_slots.Length - 1)];
            if (!slot.Released)
            {
                break;
            }
            credit += slot.Credit;
            count += slot.Count;
            endPosition = slot.EndPosition;
            wrapTail = Math.Max(wrapTail, slot.WrapTail);
            _headTicket++;
        }
        if (endPosition < 0)
        {
            return;
        }
        if (deferrable && _deferReleases)
        {
            (_deferredCredit, _deferredCount, _deferredEnd, _deferredWrapTail) = (credit, count, endPosition, wrapTail);
            return;
        }
        _sink.PublishCredit(credit, count, endPosition, wrapTail);
    }

    /// <summary>
    /// From now on, credit retired by a release is kept back until <see cref="PublishDeferred"/> (credit retired while
    /// reading, a wrap marker's, is published at once, with whatever was kept back). For an owner that publishes before
    /// every wait of its own and after every write whose answer needs the space: a duplex client releasing a response
    /// and then sending its next request lets the peer start on the request before the shared counters move.
    /// </summary>
    internal void DeferReleases()
    {
        lock (Sync)
        {
            _deferReleases = true;
        }
    }

    /// <summary>Publishes the credit kept back by <see cref="DeferReleases"/>, if any.</summary>
    internal void PublishDeferred()
    {
        if (Volatile.Read(ref _deferredEnd) < 0)
        {
            return;
        }
        lock (Sync)
        {
            if (_deferredEnd >= 0 && !_closed)
            {
                _sink.PublishCredit(_deferredCredit, _deferredCount, _deferredEnd, _deferredWrapTail);
            }
            (_deferredCredit, _deferredCount, _deferredEnd, _deferredWrapTail) = (0, 0, -1, 0);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        var grown = new Slot[_slots.Length * 2];
        for (long t = _headTicket; t < _nextTicket; t++)
        {
            grown[t & (grown.Length - 1)] = _slots[t & (_slots.Length - 1)];
        }
        _slots = grown;
    }

    private struct Slot
    {
        internal long Ticket;
        internal long DataOffset;
        internal int Length;
        internal bool Released;
        internal uint Count;
        internal long Credit;
        internal long EndPosition;
        internal long WrapTail;
        internal MappedRegion.RegionMemoryManager? Memory;
    }
}
