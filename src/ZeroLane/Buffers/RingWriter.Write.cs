using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using ZeroLane.Ipc;

namespace ZeroLane.Buffers;

public sealed partial class RingWriter
{
    private enum Placement
    {
        /// <summary>No room yet: wait for the reader to release frames.</summary>
        Wait,

        /// <summary>Fits at write_pos.</summary>
        Here,

        /// <summary>Fits at offset 0 after a wrap marker at write_pos.</summary>
        AfterWrap,

        /// <summary>Publish the wrap on its own now, then wait for room at offset 0 (ZeroLane readers only).</summary>
        WrapFirst,
    }

    /// <summary>Writes one frame, copying <paramref name="data"/> in; waits as long as it takes for space.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    public void Write(ReadOnlySpan<byte> data, CancellationToken cancellationToken = default) =>
        Write(data, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Writes one frame, copying <paramref name="data"/> in; waits at most <paramref name="timeout"/> for space.</summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    /// <exception cref="FrameTooLargeException">The frame can never fit in this buffer.</exception>
    public void Write(ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ThrowForStatus(TryWrite(data, timeout, cancellationToken), timeout);

    /// <summary>
    /// Writes one frame, copying <paramref name="data"/> in, if space frees up within <paramref name="timeout"/>.
    /// Expected failures (timeout, reader gone) are returned, not thrown.
    /// </summary>
    /// <exception cref="ArgumentException">The frame is empty (a zero-length frame would read as a wrap marker).</exception>
    /// <exception cref="FrameTooLargeException">The frame can never fit in this buffer.</exception>
    public WriteStatus TryWrite(ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        long total = CheckFrameLength(data.Length, loan: false);
        WriteStatus status = Reserve(total, loan: false, timeout, cancellationToken, out long position, out long wrapFrom);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        data.CopyTo(_region.GetSpan(_payloadOffset + position + FrameHeaderLayout.Size, data.Length));
        Publish(position, wrapFrom, data.Length);
        return WriteStatus.Success;
    }

    /// <summary>
    /// Writes one frame of <paramref name="head"/> followed by <paramref name="data"/> (a protocol's header in front of its
    /// payload), each copied once, if space frees up in time.
    /// </summary>
    internal WriteStatus TryWrite(ReadOnlySpan<byte> head, ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        int length = checked(head.Length + data.Length);
        long total = CheckFrameLength(length, loan: false);
        WriteStatus status = Reserve(total, loan: false, timeout, cancellationToken, out long position, out long wrapFrom);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        Span<byte> destination = _region.GetSpan(_payloadOffset + position + FrameHeaderLayout.Size, length);
        head.CopyTo(destination);
        data.CopyTo(destination[head.Length..]);
        Publish(position, wrapFrom, length);
        return WriteStatus.Success;
    }

    /// <summary>Writes one frame gathered from the segments of <paramref name="data"/>, each copied once, in place.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    public void Write(in ReadOnlySequence<byte> data, CancellationToken cancellationToken = default) =>
        Write(data, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Writes one frame gathered from the segments of <paramref name="data"/>; waits at most <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    public void Write(in ReadOnlySequence<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ThrowForStatus(TryWrite(data, timeout, cancellationToken), timeout);

    /// <summary>Writes one frame gathered from the segments of <paramref name="data"/>, if space frees up in time.</summary>
    public WriteStatus TryWrite(in ReadOnlySequence<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        if (data.Length > int.MaxValue)
        {
            throw new FrameTooLargeException($"A frame of {data.Length} bytes exceeds the 2 GiB - 1 a frame can have.");
        }
        int length = (int)data.Length;
        long total = CheckFrameLength(length, loan: false);
        WriteStatus status = Reserve(total, loan: false, timeout, cancellationToken, out long position, out long wrapFrom);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        CopyInto(position, data, length);
        Publish(position, wrapFrom, length);
        return WriteStatus.Success;
    }

    /// <summary>Copies the segments of <paramref name="data"/> into the frame placed at <paramref name="position"/>.</summary>
    private void CopyInto(long position, in ReadOnlySequence<byte> data, int length)
    {
        Span<byte> destination = _region.GetSpan(_payloadOffset + position + FrameHeaderLayout.Size, length);
        foreach (ReadOnlyMemory<byte> segment in data)
        {
            segment.Span.CopyTo(destination);
            destination = destination[segment.Length..];
        }
    }

    /// <summary>Writes the metadata; once per buffer lifetime, by any writer.</summary>
    /// <exception cref="MetadataAlreadyWrittenException">Metadata was already written to this buffer.</exception>
    /// <exception cref="ArgumentException">The metadata is empty.</exception>
    /// <exception cref="MetadataTooLargeException">The metadata is larger than the metadata block allows.</exception>
    /// <exception cref="InvalidOperationException">The buffer has no metadata block.</exception>
    public void SetMetadata(ReadOnlySpan<byte> metadata)
    {
        ThrowIfDisposed();
        if (_metadataSize == 0)
        {
            throw new InvalidOperationException($"Buffer '{Name}' was created without a metadata block (metadata size 0), so it takes no metadata.");
        }
        if (metadata.IsEmpty)
        {
            throw new ArgumentException("Metadata must hold at least one byte.", nameof(metadata));
        }
        if ((long)metadata.Length + 8 > _metadataSize)
        {
            int capacity = (int)Math.Min(int.MaxValue, _metadataSize - 8);
            throw new MetadataTooLargeException(
                $"Metadata of {metadata.Length} bytes does not fit: buffer '{Name}' has a {_metadataSize}-byte metadata block, " +
                $"which holds at most {capacity} bytes after the 8-byte size prefix. Have the reader create the buffer with a larger " +
                "ReaderOptions.MetadataSize.", metadata.Length, capacity);
        }
        if (_region.ReadUInt64Acquire(OiebLayout.MetadataWrittenBytes) != 0)
        {
            throw new MetadataAlreadyWrittenException($"Metadata was already written to buffer '{Name}'; it can be written once per buffer lifetime.");
        }
        _region.WriteUInt64(_metadataOffset, (ulong)metadata.Length);
        metadata.CopyTo(_region.GetSpan(_metadataOffset + 8, metadata.Length));
        _region.WriteUInt64(OiebLayout.MetadataFreeBytes, (ulong)(_metadataSize - 8 - metadata.Length));
        // release [metadata-published]: pairs with the reader's acquire load of metadata_written_bytes.
        _region.WriteUInt64Release(OiebLayout.MetadataWrittenBytes, (ulong)metadata.Length + 8);
    }

    /// <summary>Validates a frame length and returns its size with header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long CheckFrameLength(int length, bool loan)
    {
        long total = FrameHeaderLayout.Size + (long)length;
        // Fits the block exactly, or leaves room for at least a header after it (defect 1: no 1-15 byte tails).
        if (length <= 0 || (total != _payloadSize && total > _payloadSize - FrameHeaderLayout.Size))
        {
            ThrowBadLength(length);
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadLength(int length)
    {
        if (length <= 0)
        {
            throw new ArgumentException(
                "A frame must hold at least one byte: a zero-length frame has the same header as a wrap marker.", "data");
        }
        long max = _payloadSize - FrameHeaderLayout.Size;
        if (length > max)
        {
            throw new FrameTooLargeException(
                $"A frame of {length} bytes can never fit in buffer '{Name}': its {_payloadSize}-byte payload block holds at most " +
                $"{max} bytes (the block less a 16-byte header). Create the buffer with a larger payload size.");
        }
        throw new FrameTooLargeException(
            $"A frame of {length} bytes would leave a tail of {_payloadSize - FrameHeaderLayout.Size - length} bytes in buffer '{Name}', too short " +
            $"for the next frame's header. Frames here may be at most {max - FrameHeaderLayout.Size} bytes, or exactly {max}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReaderCheckDue()
    {
        long now = Environment.TickCount64;
        if (now < _nextReaderCheck)
        {
            return false;
        }
        _nextReaderCheck = now + Math.Max(1, (long)_options.PeerCheckInterval.TotalMilliseconds);
        return true;
    }

    /// <summary>Waits until a frame of <paramref name="total"/> bytes (header included) can be placed.</summary>
    private WriteStatus Reserve(long total, bool loan, TimeSpan timeout, CancellationToken cancellationToken, out long position, out long wrapFrom)
    {
        if (_oieb.Reader.Pid == 0 || ReaderCheckDue() && !IsReaderAlive())
        {
            // Disposed (a plain store we see at once) or dead (checked once per PeerCheckInterval, also
            // while the ring has room, so frames are not written into a buffer nobody will read).
            _oieb.ThrowIfLostPages(Name);
            position = wrapFrom = 0;
            return WriteStatus.ReaderGone;
        }
        if (Place(total, loan, out position, out wrapFrom) == Placement.Here)
        {
            return WriteStatus.Success;
        }
        return WaitForSpace(total, loan, timeout, cancellationToken, out position, out wrapFrom);
    }

    private WriteStatus WaitForSpace(long total, bool loan, TimeSpan timeout, CancellationToken cancellationToken, out long position, out long wrapFrom)
    {
        // Counted, so that Dispose on another thread wakes this wait and lets it leave before it unmaps.
        Interlocked.Increment(ref _activeWaits);
        var waiter = new Waiter(_options.WaitStrategy, timeout, _options.PeerCheckInterval, _readSemaphore, cancellationToken);
        try
        {
            while (true)
            {
                if (TryPlaceNow(total, loan, out position, out wrapFrom))
                {
                    return WriteStatus.Success;
                }
                if (IsReaderGone(waiter.PeerCheckDue()))
                {
                    return WriteStatus.ReaderGone;
                }
                if (!waiter.Wait())
                {
                    _oieb.ThrowIfLostPages(Name);
                    return WriteStatus.TimedOut;
                }
            }
        }
        finally
        {
            waiter.Dispose();
            Interlocked.Decrement(ref _activeWaits);
        }
    }

    /// <summary>
    /// One look of a wait for space (the synchronous and the asynchronous one): places the frame if it fits now,
    /// publishing a wrap on its own first where that is what makes room.
    /// </summary>
    private bool TryPlaceNow(long total, bool loan, out long position, out long wrapFrom)
    {
        while (true)
        {
            switch (Place(total, loan, out position, out wrapFrom))
            {
                case Placement.Here:
                case Placement.AfterWrap:
                    return true;
                case Placement.WrapFirst:
                    PublishWrap();
                    continue;
                default:
                    return false;
            }
        }
    }

    /// <summary>
    /// After a look found no room: whether the reader is gone (disposed, which is a plain store seen at once, or found
    /// dead when <paramref name="peerCheckDue"/>). Throws if this writer was disposed meanwhile.
    /// </summary>
    private bool IsReaderGone(bool peerCheckDue)
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(RingWriter));
        }
        if (_oieb.Reader.Pid == 0 || (peerCheckDue && !IsReaderAlive()))
        {
            _oieb.ThrowIfLostPages(Name);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Decides where a frame of <paramref name="total"/> bytes goes, from write_pos and payload_free_bytes.
    /// <paramref name="wrapFrom"/> is write_pos when the frame goes to 0 behind a wrap, else -1.
    /// </summary>
    private Placement Place(long total, bool loan, out long position, out long wrapFrom)
    {
        position = _writePosition;
        wrapFrom = -1;
        if (_needsResync && !TryResync())
        {
            return Placement.Wait;
        }
        // First from the cached free bytes (never more than the truth: only the reader adds to it), and
        // only when that says "no room" from the shared counter, which the reader's credits change.
        Placement placement = PlaceWithFree(total, loan, _knownFree, out position, out wrapFrom);
        if (placement is Placement.Here or Placement.AfterWrap)
        {
            return placement;
        }
        // acquire [space-freed]: pairs with the reader's atomic credit; bytes credited are free to overwrite.
        ulong freeValue = _region.ReadUInt64Acquire(OiebLayout.PayloadFreeBytes);
        CheckCounters(freeValue);
        _knownFree = (long)freeValue;
        return PlaceWithFree(total, loan, _knownFree, out position, out wrapFrom);
    }

    /// <summary>
    /// The writer's checks of the words others write, on its slow path only (when it reloads the free bytes): the free
    /// bytes it is about to trust, read_count and read_pos against what this writer published, and its own
    /// written_count, which no one else may change.
    /// </summary>
    /// <remarks>
    /// A peer reader that writes back a stale copy of the whole OIEB (the Python reader does) can only make the free
    /// bytes larger than the truth, never larger than the block: its copy counted the frame it credits as used.
    /// <para/>
    /// Free bytes above the block are impossible here: a ZeroLane writer subtracts a marker's tail before it counts the
    /// marker, so the reader's credits never overtake it (the reader allows for peers that count first).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckCounters(ulong free)
    {
        if (free > (ulong)_payloadSize)
        {
            ThrowHelper.ThrowCorrupted(Name, $"payload_free_bytes is {free}, more than the {_payloadSize}-byte payload block; another process " +
                "added to it, so this writer will not trust it");
        }
        ulong written = _region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount);
        // Only a ZeroLane reader leaves written_count alone: the Python peer reader writes its whole (stale) copy of the
        // OIEB back at every read, so with a peer reader the count may lag until this writer's next publication.
        if (_readerCountsFrames && written != _writtenCount)
        {
            ThrowHelper.ThrowCorrupted(Name, $"payload_written_count is {written}, but this writer has published {_writtenCount} items " +
                "and is the only one that may change it; another process overwrote it");
        }
        ulong readCount = _region.ReadUInt64Acquire(OiebLayout.PayloadReadCount);
        if (readCount > written)
        {
            ThrowHelper.ThrowCorrupted(Name, $"payload_read_count is {readCount}, above payload_written_count {written}; a reader cannot " +
                "finish more items than were written");
        }
        ulong readPosition = _region.ReadUInt64Acquire(OiebLayout.PayloadReadPos);
        if (readPosition > (ulong)_payloadSize)
        {
            ThrowHelper.ThrowCorrupted(Name, $"payload_read_pos is {readPosition}, beyond the end of the {_payloadSize}-byte payload block");
        }
    }

    private Placement PlaceWithFree(long total, bool loan, long free, out long position, out long wrapFrom)
    {
        position = _writePosition;
        wrapFrom = -1;
        long size = _payloadSize;
        long write = _writePosition;
        long used = size - free;
        long spaceToEnd = size - write;
        long oldest;     // first byte not yet credited by the reader
        long contiguous; // free bytes from write_pos onwards
        bool tailFree;   // [write_pos, end) is free
        if (used == 0)
        {
            oldest = write;
            contiguous = spaceToEnd;
            tailFree = true;
        }
        else if (used == size)
        {
            return Placement.Wait;
        }
        else
        {
            oldest = write - used;
            if (oldest < 0)
            {
                oldest += size;
            }
            tailFree = oldest < write;
            contiguous = tailFree ? spaceToEnd : oldest - write;
        }

        if (total <= contiguous && TailAllowed(spaceToEnd - total, loan, total))
        {
            return Placement.Here;
        }
        if (!tailFree || write == 0)
        {
            return Placement.Wait;
        }
        // After a wrap the frame takes [0, total), which must end before the oldest uncredited byte; in a
        // drained ring that is the wrap marker itself, which the reader has yet to pass.
        if (total <= oldest && TailAllowed(size - total, loan, total))
        {
            position = 0;
            wrapFrom = write;
            return Placement.AfterWrap;
        }
        // A wrap published on its own needs a marker; a tail too short for one (left by a peer writer) can only
        // be crossed together with the frame after it.
        if (_readerCountsFrames && spaceToEnd >= FrameHeaderLayout.Size)
        {
            return Placement.WrapFirst;
        }
        if (used == 0 || (used == spaceToEnd && spaceToEnd < FrameHeaderLayout.Size))
        {
            // A drained ring (at most a markerless tail in use) will never free more: say so instead of hanging.
            ThrowUnplaceable(total);
        }
        return Placement.Wait;
    }

    /// <summary>
    /// True if what remains before the end of the block after the frame leaves room for a header, or
    /// nothing at all (defect 1). A loan may be committed short, so it needs a header's room after its
    /// full size, and any shorter commit then leaves more; only a loan of the whole block fits exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TailAllowed(long remainder, bool loan, long total) =>
        remainder >= FrameHeaderLayout.Size || (remainder == 0 && (!loan || total == _payloadSize));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowUnplaceable(long total) =>
        throw new FrameTooLargeException(
            $"A frame of {total - FrameHeaderLayout.Size} bytes cannot be placed in buffer '{Name}': it does not fit between write " +
            $"position {_writePosition} and the end of the {_payloadSize}-byte block, and behind a wrap it would overwrite the wrap " +
            "marker the reader has not passed, and the wrap cannot be published on its own (the reader is not a ZeroLane reader, " +
            "or the tail is too short for a marker); use smaller frames or a payload block at least twice the largest frame.");

    /// <summary>
    /// First write after connecting to a ZeroLane reader: once every published item has been released,
    /// take write_pos from read_pos and reset payload_free_bytes, undoing space a dead writer reserved.
    /// </summary>
    private bool TryResync()
    {
        ulong written = _region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount);
        // acquire [ring-drained]: pairs with the reader's release store of read_count after its credit.
        ulong released = _region.ReadUInt64Acquire(OiebLayout.PayloadReadCount);
        if (released > written)
        {
            ThrowHelper.ThrowCorrupted(Name, $"payload_read_count is {released}, above payload_written_count {written}; a reader cannot " +
                "finish more items than were written");
        }
        if (written != released)
        {
            return false;
        }
        ulong readPosition = _region.ReadUInt64Acquire(OiebLayout.PayloadReadPos);
        if (readPosition >= (ulong)_payloadSize)
        {
            ThrowHelper.ThrowCorrupted(Name, $"read_pos {readPosition} lies outside the {_payloadSize}-byte payload block");
        }
        _writePosition = (long)readPosition;
        _region.WriteUInt64Release(OiebLayout.PayloadWritePos, readPosition);
        _region.ExchangeUInt64(OiebLayout.PayloadFreeBytes, (ulong)_payloadSize);
        _knownFree = _payloadSize;
        _needsResync = false;
        return true;
    }

    /// <summary>Publishes a wrap on its own: marker at write_pos (if a header fits), tail counted as used, write_pos = 0.</summary>
    private void PublishWrap()
    {
        long write = _writePosition;
        long spaceToEnd = _payloadSize - write;
        bool marker = spaceToEnd >= FrameHeaderLayout.Size;
        if (marker)
        {
            _region.WriteUInt64(_payloadOffset + write + FrameHeaderLayout.PayloadSize, 0);
            _region.WriteUInt64(_payloadOffset + write + FrameHeaderLayout.Sequence, 0);
        }
        ulong free = _region.AddAndGetUInt64(OiebLayout.PayloadFreeBytes, -spaceToEnd);
        if (free > (ulong)_payloadSize)
        {
            ThrowFreeBytesCorrupted(free, spaceToEnd);
        }
        _knownFree = (long)free;
        _writePosition = 0;
        _region.WriteUInt64Release(OiebLayout.PayloadWritePos, 0);
        if (marker)
        {
            // release [frame-published]
            _region.WriteUInt64Release(OiebLayout.PayloadWrittenCount, ++_writtenCount);
            _writeSemaphore.Post();
        }
    }

    /// <summary>Writes the header (and wrap marker), reserves the space, and publishes the frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Publish(long position, long wrapFrom, int length)
    {
        // The frame's bytes may have gone to zero pages: publish nothing rather than a frame of zeros.
        _oieb.ThrowIfLostPages(Name);
        long total = FrameHeaderLayout.Size + (long)length;
        long headerOffset = _payloadOffset + position;
        _region.WriteUInt64(headerOffset + FrameHeaderLayout.PayloadSize, (ulong)length);
        _region.WriteUInt64(headerOffset + FrameHeaderLayout.Sequence, _sequence);
        long consumed = total;
        ulong items = 1;
        if (wrapFrom >= 0)
        {
            long spaceToEnd = _payloadSize - wrapFrom;
            consumed += spaceToEnd;
            if (spaceToEnd >= FrameHeaderLayout.Size)
            {
                _region.WriteUInt64(_payloadOffset + wrapFrom + FrameHeaderLayout.PayloadSize, 0);
                _region.WriteUInt64(_payloadOffset + wrapFrom + FrameHeaderLayout.Sequence, 0);
                items = 2;
            }
        }
        // Space first, count last: a writer that dies in between leaves space reserved but nothing
        // published, which the next writer's resync recovers; the reverse order could publish a frame
        // whose space a later writer would consider free.
        ulong free = _region.AddAndGetUInt64(OiebLayout.PayloadFreeBytes, -consumed);
        if (free > (ulong)_payloadSize)
        {
            // Below zero (wrapped) or above the block: someone else changed it. Nothing is published.
            ThrowFreeBytesCorrupted(free, consumed);
        }
        _knownFree -= consumed;
        long end = position + total;
        _writePosition = end == _payloadSize ? 0 : end;
        _region.WriteUInt64Release(OiebLayout.PayloadWritePos, (ulong)_writePosition);
        // release [frame-published]: the header and bytes above become visible to a reader that loads
        // written_count with acquire.
        _writtenCount += items;
        _region.WriteUInt64Release(OiebLayout.PayloadWrittenCount, _writtenCount);
        _writeSemaphore.Post();
        _sequence++;
        _framesWritten++;
        _bytesWritten += length;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowFreeBytesCorrupted(ulong free, long reserved) =>
        ThrowHelper.ThrowCorrupted(Name, $"payload_free_bytes is {(long)free} after this writer reserved {reserved} bytes, outside the " +
            $"{_payloadSize}-byte payload block (this writer had {_knownFree} bytes of it to itself); another process changed it");

    private void ThrowForStatus(WriteStatus status, TimeSpan timeout)
    {
        if (status != WriteStatus.Success)
        {
            throw ThrowHelper.WriteFailed(status, Name, timeout);
        }
    }
}
