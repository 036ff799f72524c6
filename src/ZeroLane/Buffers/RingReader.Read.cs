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
                if (_writerSeen && _oieb.Writer.Pid == 0 && !TryTakeFrame(out frame))
                {
                    // A disconnect is a plain store: notice it at once rather than at the next peer check.
                    _writerSeen = false;
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
        if (written != length + 8 || length == 0 || length > (ulong)_metadataSize - 8)
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
                if (_writerSeen && _oieb.Writer.Pid == 0 && !TryTakeFrame(out frame))
                {
                    // A disconnect is a plain store: notice it at once rather than at the next peer check.
                    _writerSeen = false;
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

    /// <summary>Success while the writer lives (or none has come yet); otherwise how it went.</summary>
    private ReadStatus CheckWriter()
    {
        ProcessIdentity writer = _oieb.Writer.Read();
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
            return ReadStatus.WriterDied;
        }
        if (_writerSeen)
        {
            _writerSeen = false;
            return ReadStatus.WriterDisconnected;
        }
        return ReadStatus.Success;
    }

    /// <summary>Takes the next frame if one is published; never waits.</summary>
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
                if (_knownWritten == _consumedCount)
                {
                    // Only reload written_count once everything seen so far is consumed: it lives on a cache
                    // line the writer changes with every frame.
                    // acquire [frame-published]: pairs with the writer's release increment of written_count,
                    // so the header and bytes of every counted item are visible below.
                    _knownWritten = _region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount);
                    if (_knownWritten == _consumedCount)
                    {
                        frame = default;
                        return false;
                    }
                }
                long spaceToEnd = _payloadSize - _cursor;
                if (spaceToEnd < FrameHeaderLayout.Size)
                {
                    // A tail too short for a header: an implicit wrap (only a peer writer leaves one; defect 1).
                    _cursor = 0;
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
                    _ledger.AddReleasedUnsynchronized(credit: spaceToEnd, count: 1, endPosition: 0);
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
                if (sequence != _expectedSequence && sequence != 1)
                {
                    // Sequence 1 is a new writer starting over after the previous one left.
                    ThrowCorrupted($"sequence gap: expected {_expectedSequence}, got {sequence}");
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
    /// Gives retired space back to the writer: payload_free_bytes, read_pos and read_count, then wakes the
    /// writer. Called by the ledger with its lock held.
    /// </summary>
    void ICreditSink.PublishCredit(long credit, ulong count, long endPosition)
    {
        // release [space-freed]: the atomic add publishes the space; a writer that reads the new value may
        // overwrite these bytes. It comes before read_pos and read_count so that a writer which sees
        // read_count == written_count (acquire [ring-drained]) knows every credit has landed.
        _region.AddAndGetUInt64(OiebLayout.PayloadFreeBytes, credit);
        _region.WriteUInt64Release(OiebLayout.PayloadReadPos, (ulong)endPosition);
        _readCount += count;
        // release [ring-drained]
        _region.WriteUInt64Release(OiebLayout.PayloadReadCount, _readCount);
        // No check of free against the block size here: a reference C++ writer counts a wrap marker before
        // it subtracts the marker's tail, so the sum can exceed the block for a moment. The writer checks it.
        // Defect 4: post sem-r only when its value is 0. It is a wake-up hint for a writer that re-checks
        // payload_free_bytes, so one pending unit is enough and the value stays bounded at 1.
        if (_readSemaphore.Value <= 0)
        {
            _readSemaphore.Post();
        }
    }

    private Frame ThrowForStatus(ReadStatus status, TimeSpan timeout) => throw ThrowHelper.ReadFailed(status, Name, timeout);
}
