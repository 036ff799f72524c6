using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Buffers;

public sealed partial class RingReader
{
    /// <summary>Reads the next frame, waiting as long as it takes.</summary>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public Frame Read(CancellationToken cancellationToken = default) => Read(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Reads the next frame, waiting at most <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">No frame arrived in time.</exception>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public Frame Read(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReadStatus status = TryRead(out Frame frame, timeout, cancellationToken);
        return status == ReadStatus.Success ? frame : ThrowForStatus(status, timeout);
    }

    /// <summary>
    /// Reads the next frame if one arrives within <paramref name="timeout"/>; expected failures (timeout,
    /// writer gone) are returned, not thrown.
    /// </summary>
    /// <exception cref="BufferCorruptedException">A frame header is impossible or its sequence number is out of order.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public ReadStatus TryRead(out Frame frame, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (TryTakeFrame(out frame))
        {
            return ReadStatus.Success;
        }
        return WaitForFrame(out frame, timeout, cancellationToken);
    }

    /// <summary>Reads the next frame, waiting without blocking a thread-pool thread.</summary>
    /// <exception cref="WriterGoneException">The writer is gone and every frame it committed has been read.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Frame> ReadAsync(CancellationToken cancellationToken = default)
    {
        ReadResult result = await TryReadAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return result.Status == ReadStatus.Success ? result.Frame : ThrowForStatus(result.Status, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Reads the next frame if one arrives within <paramref name="timeout"/>, without blocking a thread while it waits.
    /// Completes synchronously, without allocating, when a frame is ready; otherwise sleeps in the process's shared wait
    /// threads (<see cref="AsyncSemaphoreWait"/>), not on a thread of its own, and never spins, whatever the wait strategy.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another asynchronous read is in progress.</exception>
    public ValueTask<ReadResult> TryReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        EnterAsync();
        bool started = false;
        try
        {
            if (TryTakeFrame(out Frame frame))
            {
                return new ValueTask<ReadResult>(new ReadResult(ReadStatus.Success, frame));
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<ReadResult>(cancellationToken);
            }
            started = true;
            return WaitForFrameAsync(timeout, cancellationToken);
        }
        finally
        {
            if (!started)
            {
                ExitAsync();
            }
        }
    }

    /// <summary>The asynchronous counterpart of <see cref="WaitForFrame"/>: drain, look again, sleep until posted, repeat.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> WaitForFrameAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Counted, so that Dispose on another thread wakes this wait and lets it leave before it unmaps.
        Interlocked.Increment(ref _activeWaits);
        try
        {
            var schedule = new WaitSchedule(timeout, _options.PeerCheckInterval);
            bool drained = false;
            while (true)
            {
                if (TryTakeFrame(out Frame frame))
                {
                    return new ReadResult(ReadStatus.Success, frame);
                }
                if (_disposed)
                {
                    ThrowHelper.ThrowObjectDisposed(nameof(RingReader));
                }
                if (schedule.PeerCheckDue())
                {
                    _oieb.ThrowIfLostPages(Name);
                    ReadStatus gone = CheckWriter();
                    if (gone != ReadStatus.Success)
                    {
                        // The writer may have published frames just before it left: read them first.
                        return TryTakeFrame(out frame) ? new ReadResult(ReadStatus.Success, frame) : new ReadResult(gone, default);
                    }
                }
                if (WriterSessionOver(out ulong connections) && !TryTakeFrame(out frame))
                {
                    // A disconnect is a plain store: notice it at once rather than at the next peer check.
                    EndWriterSession(connections);
                    return new ReadResult(ReadStatus.WriterDisconnected, default);
                }
                if (frame.IsValid)
                {
                    return new ReadResult(ReadStatus.Success, frame);
                }
                if (schedule.Expired)
                {
                    _oieb.ThrowIfLostPages(Name);
                    return new ReadResult(ReadStatus.TimedOut, default);
                }
                if (!drained)
                {
                    // As in Waiter: clear the units of frames already seen, then look once more before sleeping; a post
                    // after the drain belongs to something the look may have missed, and ends the sleep at once.
                    _writeSemaphore.Drain();
                    Interlocked.MemoryBarrier();
                    drained = true;
                    continue;
                }
                if (await _asyncWait.WaitAsync(_writeSemaphore, schedule.NextWake, cancellationToken).ConfigureAwait(false))
                {
                    // Posted: the counters are loaded again after this fence (see Waiter), then drained before the next sleep.
                    Interlocked.MemoryBarrier();
                    drained = false;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _activeWaits);
            ExitAsync();
        }
    }

    /// <summary>Takes the one asynchronous slot: a reader runs one asynchronous read at a time.</summary>
    private void EnterAsync()
    {
        if (Interlocked.Exchange(ref _asyncBusy, 1) != 0)
        {
            throw new InvalidOperationException("Another asynchronous operation is already in progress; a reader or writer runs one at a time.");
        }
    }

    private void ExitAsync() => Volatile.Write(ref _asyncBusy, 0);

    /// <summary>
    /// Reads frames as they arrive until the writer disconnects. Each frame is released when the next one is
    /// requested (or the loop ends); dispose it earlier if you are done with it sooner.
    /// </summary>
    /// <exception cref="WriterGoneException">The writer died without disconnecting.</exception>
    public async IAsyncEnumerable<Frame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            ReadResult result = await TryReadAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case ReadStatus.Success:
                    try
                    {
                        yield return result.Frame;
                    }
                    finally
                    {
                        result.Frame.Dispose();
                    }
                    break;
                case ReadStatus.WriterDisconnected:
                    yield break;
                default:
                    ThrowForStatus(result.Status, Timeout.InfiniteTimeSpan);
                    break;
            }
        }
    }

    /// <summary>Releases a frame; same as disposing it.</summary>
    public void Release(Frame frame) => frame.Dispose();

    /// <summary>True once the writer has written metadata.</summary>
    public bool HasMetadata => !_disposed && _region.ReadUInt64Acquire(OiebLayout.MetadataWrittenBytes) != 0;

    /// <summary>The metadata the writer wrote, in place; empty if none has been written yet.</summary>
    /// <exception cref="BufferCorruptedException">The metadata size fields are inconsistent.</exception>
    public ReadOnlySpan<byte> GetMetadata()
    {
        ThrowIfDisposed();
        // acquire [metadata-published]: pairs with the writer's release store of metadata_written_bytes.
        ulong written = _region.ReadUInt64Acquire(OiebLayout.MetadataWrittenBytes);
        if (written == 0)
        {
            return default;
        }
        ulong length = _region.ReadUInt64(_metadataOffset);
        // Not _metadataSize - 8 unguarded: without a metadata block that wraps to a huge room and the "metadata" is read from
        // the payload block.
        if (written != length + 8 || length == 0 || length > (ulong)Math.Max(0, _metadataSize - 8))
        {
            throw new BufferCorruptedException(
                $"Buffer '{Name}': metadata_written_bytes is {written} but the metadata prefix says {length} bytes in a " +
                $"{_metadataSize}-byte block. The segment was corrupted; recreate the buffer.");
        }
        return _region.GetSpan(_metadataOffset + 8, (int)length);
    }

    private ReadStatus WaitForFrame(out Frame frame, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Counted, so that Dispose on another thread wakes this wait and lets it leave before it unmaps.
        Interlocked.Increment(ref _activeWaits);
        var waiter = new Waiter(_options.WaitStrategy, timeout, _options.PeerCheckInterval, _writeSemaphore, cancellationToken);
        try
        {
            while (true)
            {
                if (TryTakeFrame(out frame))
                {
                    return ReadStatus.Success;
                }
                if (_disposed)
                {
                    ThrowHelper.ThrowObjectDisposed(nameof(RingReader));
                }
                if (waiter.PeerCheckDue())
                {
                    _oieb.ThrowIfLostPages(Name);
                    ReadStatus gone = CheckWriter();
                    if (gone != ReadStatus.Success)
                    {
                        // The writer may have published frames just before it left: read them first.
                        return TryTakeFrame(out frame) ? ReadStatus.Success : gone;
                    }
                }
                if (!waiter.Wait())
                {
                    if (TryTakeFrame(out frame))
                    {
                        return ReadStatus.Success;
                    }
                    _oieb.ThrowIfLostPages(Name);
                    return ReadStatus.TimedOut;
                }
                if (WriterSessionOver(out ulong connections) && !TryTakeFrame(out frame))
                {
                    // A disconnect is a plain store: notice it at once rather than at the next peer check.
                    EndWriterSession(connections);
                    return ReadStatus.WriterDisconnected;
                }
                else if (frame.IsValid)
                {
                    return ReadStatus.Success;
                }
            }
        }
        finally
        {
            waiter.Dispose();
            Interlocked.Decrement(ref _activeWaits);
        }
    }

    /// <summary>Corruption, unless the segment was truncated under us (then that is what the zeros mean).</summary>
    [DoesNotReturn]
    private void ThrowCorrupted(string what)
    {
        _oieb.ThrowIfLostPages(Name);
        ThrowHelper.ThrowCorrupted(Name, what);
    }

    /// <summary>
    /// Whether the current writer session is over: no writer is connected, and one was seen (by a frame or a peer check),
    /// or a ZeroLane writer connected since the last session end and left again unseen (without a frame, between two
    /// looks). The connection count is read before the writer's PID: a writer claims the PID before it counts its
    /// connection, so a count that moved followed by a PID of 0 means that writer has left, not that it is arriving.
    /// </summary>
    private bool WriterSessionOver(out ulong connections)
    {
        connections = WriterConnections();
        return (_writerSeen || connections != _connectionsEnded) && _oieb.Writer.Pid == 0;
    }

    /// <summary>Records the end of a writer session (reported as <see cref="ReadStatus.WriterDisconnected"/>).</summary>
    private void EndWriterSession(ulong connections)
    {
        _writerSeen = false;
        _writerChangeSeen = true;
        _connectionsEnded = connections;
    }

    /// <summary>ZeroLane writer connections so far (writer_state bits 1-63; peers of other libraries do not count theirs).</summary>
    private ulong WriterConnections() => _region.ReadUInt64Acquire(OiebLayout.WriterState) >> OiebLayout.WriterConnectionsShift;

    /// <summary>Success while the writer lives (or none has come yet); otherwise how it went.</summary>
    private ReadStatus CheckWriter()
    {
        // Before the identity, as in WriterSessionOver.
        ulong connections = WriterConnections();
        ProcessIdentity writer = _oieb.Writer.Read();
        if (writer != _runWriter)
        {
            // Gone, or another writer than the one whose sequence 1 was read last: a later restart is explained.
            _writerChangeSeen = true;
        }
        if (writer.Pid != 0)
        {
            if (_platform.IsAlive(writer))
            {
                _writerSeen = true;
                return ReadStatus.Success;
            }
            // Clear the dead writer's claim so a new writer can connect; it loses harmlessly if a new writer got
            // there first, so its PID and start time are never wiped.
            _oieb.Writer.TryClear(writer);
            _writerSeen = false;
            _connectionsEnded = connections;
            return ReadStatus.WriterDied;
        }
        if (_writerSeen || connections != _connectionsEnded)
        {
            EndWriterSession(connections);
            return ReadStatus.WriterDisconnected;
        }
        return ReadStatus.Success;
    }

    /// <summary>Takes the next frame if one is published; never waits.</summary>
    /// <remarks>
    /// The counters are checked where they are loaded anyway, so the checks add no memory access to the path of a
    /// frame: written_count each time it is reloaded (it can never fall below what was consumed, nor run further
    /// ahead than the block has room for items), and payload_free_bytes each time a credit is added to it
    /// (<see cref="ICreditSink.PublishCredit"/>). A sequence restart is checked against the writer identity words
    /// (<see cref="StartRun"/>), and a peer's phantom item after a short tail is recognised in <see cref="TrySkipPhantoms"/>.
    /// </remarks>
    private bool TryTakeFrame(out Frame frame)
    {
        lock (_ledger.Sync)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowObjectDisposed(nameof(RingReader));
            }
            while (true)
            {
                if (_corruption is not null)
                {
                    ThrowCorrupted(_corruption);
                }
                if (_knownWritten == _consumedCount)
                {
                    // Only reload written_count once everything seen so far is consumed: it lives on a cache
                    // line the writer changes with every frame.
                    // acquire [frame-published]: pairs with the writer's release increment of written_count,
                    // so the header and bytes of every counted item are visible below.
                    _knownWritten = _region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount);
                    if (_knownWritten == _consumedCount)
                    {
                        // Every counted item is consumed, so the writer counted no phantom for the short tails passed.
                        _uncountedWraps = 0;
                        frame = default;
                        return false;
                    }
                    // One unsigned test for both impossible counts: one below what was consumed wraps to a huge
                    // difference. Items take at least a header each (a pending phantom takes none).
                    if (_knownWritten - _consumedCount > _maxUnreadItems + _uncountedWraps)
                    {
                        ThrowImpossibleWrittenCount(_knownWritten);
                    }
                }
                // Phantoms first: the items counted may all be phantoms of tails already passed, and then the cursor is
                // where the writer stopped, perhaps in front of a short tail it has not wrapped at yet.
                if (_uncountedWraps != 0 && _knownWritten - _consumedCount <= _uncountedWraps && TrySkipPhantoms())
                {
                    continue;
                }
                long spaceToEnd = _payloadSize - _cursor;
                if (spaceToEnd < FrameHeaderLayout.Size)
                {
                    // A tail too short for a header: an implicit wrap (only a peer writer leaves one; defect 1). The
                    // C++ peer counts no item for it, the Python peer counts one it did not write (TrySkipPhantoms), in
                    // the same store as the frame after it: one item counted here proves the count exact.
                    _cursor = 0;
                    _uncountedWraps = _knownWritten - _consumedCount == 1 ? 0 : Math.Min(_uncountedWraps + 1, _maxUnreadItems);
                    _ledger.AddReleasedUnsynchronized(credit: spaceToEnd, count: 0, endPosition: 0);
                    continue;
                }
                long headerOffset = _payloadOffset + _cursor;
                ulong size = _region.ReadUInt64(headerOffset + FrameHeaderLayout.PayloadSize);
                ulong sequence = _region.ReadUInt64(headerOffset + FrameHeaderLayout.Sequence);
                if (size == 0)
                {
                    if (sequence != 0)
                    {
                        ThrowCorrupted($"a frame header at payload offset {_cursor} has size 0 and sequence {sequence}; " +
                            "only a wrap marker (size 0, sequence 0) may have size 0");
                    }
                    if (_cursor == 0)
                    {
                        // A marker says "the next frame did not fit before the end"; at offset 0 the whole block lay
                        // ahead, so no writer writes one there. Zeros here would otherwise be consumed forever.
                        ThrowCorrupted("a wrap marker at payload offset 0, where no frame can fail to fit");
                    }
                    _consumedCount++;
                    _cursor = 0;
                    _ledger.AddReleasedUnsynchronized(credit: spaceToEnd, count: 1, endPosition: 0, wrapTail: spaceToEnd);
                    continue;
                }
                if (size > (ulong)(spaceToEnd - FrameHeaderLayout.Size))
                {
                    ThrowCorrupted($"a frame header at payload offset {_cursor} claims {size} bytes but only " +
                        $"{spaceToEnd - FrameHeaderLayout.Size} remain before the end of the {_payloadSize}-byte payload block");
                }
                if (size > int.MaxValue)
                {
                    ThrowCorrupted($"a frame of {size} bytes exceeds the 2 GiB a .NET span can address");
                }
                if (sequence != _expectedSequence || sequence == 1)
                {
                    // A gap, or the first frame of a writer: rare, so out of line.
                    StartRun(sequence);
                }
                _expectedSequence = sequence + 1;
                long total = FrameHeaderLayout.Size + (long)size;
                long end = _cursor + total == _payloadSize ? 0 : _cursor + total;
                long ticket = _ledger.AddUnsynchronized(headerOffset + FrameHeaderLayout.Size, (int)size, credit: total, count: 1, end);
                _consumedCount++;
                _cursor = end;
                _framesRead++;
                _bytesRead += (long)size;
                _writerSeen = true;
                if (++_undrainedPosts == SemaphoreDrainBatch)
                {
                    // Take back the sem-w units of the frames consumed, in batches, so the value stays bounded
                    // even for a reader that never sleeps. Not per frame: the CAS would pull the semaphore's
                    // cache line from the writer on every frame. Draining is safe at any time because every
                    // sleep is preceded by drain, then re-check.
                    _writeSemaphore.Drain();
                    _undrainedPosts = 0;
                }
                frame = new Frame(_ledger, ticket, sequence, (int)size);
                return true;
            }
        }
    }

    /// <summary>
    /// Point 8 of the hardening issue: the Python peer writer, wrapping at a tail too short for a marker, still adds one
    /// to written_count (the C++ peer does not, and this reader follows the C++ convention at the tail). Such a phantom
    /// shows as an item counted where nothing was written: the items still counted are no more than the short tails
    /// passed since the count was last seen exact, and the cursor stands at the writer's write_pos. Consumes them then
    /// (count only: their tails were credited at the wrap) and returns true; otherwise false. Caller holds the lock.
    /// </summary>
    /// <remarks>
    /// Only a reader that has passed a short tail gets here (a ZeroLane writer never leaves one), and a phantom is
    /// never accepted where an item was written: write_pos is loaded after written_count, so it is at least as new,
    /// and a published item at the cursor puts write_pos elsewhere (the ring cannot be full of unread items there,
    /// because the tail's credit had to reach the writer before it could write up to the cursor).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TrySkipPhantoms()
    {
        // acquire [frame-published], as in TryTakeFrame; write_pos after it.
        ulong written = _region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount);
        ulong writePosition = _region.ReadUInt64Acquire(OiebLayout.PayloadWritePos);
        ulong unread = written - _consumedCount;
        if (unread > _maxUnreadItems + _uncountedWraps)
        {
            ThrowImpossibleWrittenCount(written);
        }
        if (written < _knownWritten)
        {
            ThrowCorrupted($"payload_written_count went back from {_knownWritten} to {written}; the writer only ever increments it, " +
                "so another process overwrote it");
        }
        _knownWritten = written;
        if (writePosition > (ulong)_payloadSize)
        {
            ThrowCorrupted($"payload_write_pos is {writePosition}, beyond the end of the {_payloadSize}-byte payload block");
        }
        if (unread == 0)
        {
            // Everything counted is consumed after all: the count was exact, and the caller's reload finds nothing.
            _uncountedWraps = 0;
            return true;
        }
        // The peers leave write_pos at the block's end after a frame that ends there.
        ulong position = writePosition == (ulong)_payloadSize ? 0 : writePosition;
        if (unread > _uncountedWraps || position != (ulong)_cursor)
        {
            return false;
        }
        _consumedCount += unread;
        _uncountedWraps -= unread;
        _ledger.AddReleasedUnsynchronized(credit: 0, count: (uint)unread, endPosition: _cursor);
        return true;
    }

    /// <summary>
    /// A frame with sequence 1 or out of order: the first frame of the first writer, a new writer starting over, or
    /// corruption. A restart must be proven by the writer identity words: a ZeroLane writer counts its connections in
    /// writer_state (so every run needs a connection of its own), and a peer writer's PID (and start time) must differ
    /// from the one recorded when the current run began, unless this reader has seen the writer leave since.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void StartRun(ulong sequence)
    {
        if (sequence != 1)
        {
            ThrowCorrupted($"sequence gap: expected {_expectedSequence}, got {sequence}" + (sequence < _expectedSequence
                ? "; an older frame was read again, so payload_written_count is probably ahead of what was written"
                : ""));
        }
        ProcessIdentity writer = _oieb.Writer.Read();
        ulong connections = WriterConnections();
        if (_runsTaken != 0 && _runsTaken >= connections && writer == _runWriter && !_writerChangeSeen)
        {
            ThrowCorrupted($"sequence restart: a frame with sequence 1 follows sequence {_expectedSequence - 1}, but the writer " +
                $"identity words show no new writer (writer_pid {writer.Pid}, start time {writer.StartTime}, as when the " +
                $"current writer's sequence 1 was read; {connections} ZeroLane writer connections for {_runsTaken + 1} " +
                "sequence runs). The frame is stale, read again because payload_written_count was set ahead of what was written");
        }
        _runsTaken++;
        _runWriter = writer;
        _writerChangeSeen = false;
    }

    /// <summary>written_count below what this reader consumed, or further ahead than the block can hold.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowImpossibleWrittenCount(ulong written)
    {
        if (written < _consumedCount)
        {
            ThrowCorrupted($"payload_written_count is {written}, below the {_consumedCount} items this reader has already " +
                "consumed; the writer only ever increments it, so another process overwrote it");
        }
        ThrowCorrupted($"payload_written_count is {written}, {written - _consumedCount} items ahead of the {_consumedCount} this " +
            $"reader has consumed, but the {_payloadSize}-byte payload block holds at most {_maxUnreadItems + _uncountedWraps} " +
            "(every item takes at least a 16-byte header); another process overwrote it");
    }

    /// <summary>
    /// Gives retired space back to the writer: payload_free_bytes, read_pos and read_count, then wakes the
    /// writer. Called by the ledger with its lock held.
    /// </summary>
    void ICreditSink.PublishCredit(long credit, ulong count, long endPosition, long wrapTail)
    {
        // release [space-freed]: the atomic add publishes the space; a writer that reads the new value may
        // overwrite these bytes. It comes before read_pos and read_count so that a writer which sees
        // read_count == written_count (acquire [ring-drained]) knows every credit has landed.
        ulong free = _region.AddAndGetUInt64(OiebLayout.PayloadFreeBytes, credit);
        // Free bytes never exceed the block, with one exception: the reference C++ writer counts a wrap marker before it
        // subtracts the marker's tail, so while a credit that includes that marker lands first, the sum may exceed the
        // block by that tail (at most the block less the 17 bytes of the smallest frame before the marker).
        if (free > (ulong)(_payloadSize + wrapTail))
        {
            // Not thrown here: a release (Frame.Dispose, perhaps on another thread) is no place for it. The next read throws.
            RecordFreeBytesAboveBlock(free, credit, wrapTail);
        }
        _region.WriteUInt64Release(OiebLayout.PayloadReadPos, (ulong)endPosition);
        _readCount += count;
        // release [ring-drained]
        _region.WriteUInt64Release(OiebLayout.PayloadReadCount, _readCount);
        // Defect 4: post sem-r only when its value is 0. It is a wake-up hint for a writer that re-checks
        // payload_free_bytes, so one pending unit is enough and the value stays bounded at 1.
        if (_readSemaphore.Value <= 0)
        {
            _readSemaphore.Post();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordFreeBytesAboveBlock(ulong free, long credit, long wrapTail) =>
        _corruption ??= $"payload_free_bytes was {free} after this reader gave back {credit} bytes, more than the {_payloadSize}-byte " +
            "payload block" + (wrapTail == 0 ? "" : $" plus the {wrapTail}-byte tail of the wrap marker just passed") +
            "; another process added to it, or the writer subtracted less than it wrote";

    private Frame ThrowForStatus(ReadStatus status, TimeSpan timeout) => throw ThrowHelper.ReadFailed(status, Name, timeout);
}
