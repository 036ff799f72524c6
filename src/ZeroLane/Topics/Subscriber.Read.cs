using System.Runtime.CompilerServices;
using ZeroLane.Ipc;

namespace ZeroLane.Topics;

/// <summary>A sample, or why there is none: the result of <see cref="Subscriber.TryReadAsync"/>.</summary>
/// <param name="Status">
/// What happened: <see cref="ReadStatus.WriterDied"/> when a publisher died (after everything it queued was read),
/// <see cref="ReadStatus.WriterDisconnected"/> when the last publisher left (ditto).
/// </param>
/// <param name="Sample">The sample when <paramref name="Status"/> is <see cref="ReadStatus.Success"/>; default otherwise.</param>
public readonly record struct SampleResult(ReadStatus Status, Sample Sample);

public sealed partial class Subscriber
{
    /// <summary>Reads the next sample of any publisher, waiting as long as it takes.</summary>
    /// <exception cref="WriterGoneException">A publisher died, or the last one left; everything they sent has been read.</exception>
    public Sample Read(CancellationToken cancellationToken = default) => Read(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Reads the next sample of any publisher, waiting at most <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">No sample arrived in time.</exception>
    /// <exception cref="WriterGoneException">A publisher died, or the last one left; everything they sent has been read.</exception>
    public Sample Read(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReadStatus status = TryRead(out Sample sample, timeout, cancellationToken);
        return status == ReadStatus.Success ? sample : throw ThrowHelper.ReadFailed(status, Topic, timeout);
    }

    /// <summary>
    /// Reads the next sample of any publisher if one arrives within <paramref name="timeout"/>. Expected outcomes are
    /// returned: <see cref="ReadStatus.TimedOut"/>, <see cref="ReadStatus.WriterDied"/> (once per publisher that died, after
    /// what it queued was read; a new publisher may take over) and <see cref="ReadStatus.WriterDisconnected"/> (the last
    /// publisher left). On success, dispose <paramref name="sample"/> to release it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The subscriber already holds <see cref="SubscriberOptions.MaxHeld"/> samples.</exception>
    /// <exception cref="BufferCorruptedException">A publisher's segment holds an impossible value.</exception>
    public ReadStatus TryRead(out Sample sample, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        lock (_samples.Sync)
        {
            if (TryTakeUnsynchronized(out sample))
            {
                return ReadStatus.Success;
            }
        }
        return WaitForSample(out sample, timeout, cancellationToken);
    }

    ReadStatus IFrameSource.TryRead(out Frame frame, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ReadStatus status = TryRead(out Sample sample, timeout, cancellationToken);
        frame = sample.Frame;
        return status;
    }

    private ReadStatus WaitForSample(out Sample sample, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _activeWaits);
        var waiter = new Waiter(_options.WaitStrategy, timeout, _options.PeerCheckInterval, _queued, cancellationToken);
        try
        {
            while (true)
            {
                if (_disposed)
                {
                    ThrowHelper.ThrowObjectDisposed(nameof(Subscriber));
                }
                lock (_samples.Sync)
                {
                    if (TryTakeUnsynchronized(out sample))
                    {
                        return ReadStatus.Success;
                    }
                    ReadStatus gone = LookAroundUnsynchronized(waiter.PeerCheckDue());
                    if (gone != ReadStatus.Success)
                    {
                        return TryTakeUnsynchronized(out sample) ? ReadStatus.Success : gone;
                    }
                }
                if (!waiter.Wait())
                {
                    lock (_samples.Sync)
                    {
                        return TryTakeUnsynchronized(out sample) ? ReadStatus.Success : ReadStatus.TimedOut;
                    }
                }
            }
        }
        finally
        {
            waiter.Dispose();
            Interlocked.Decrement(ref _activeWaits);
        }
    }

    /// <summary>Reads the next sample without blocking a thread while it waits.</summary>
    /// <exception cref="WriterGoneException">A publisher died, or the last one left; everything they sent has been read.</exception>
    public ValueTask<Sample> ReadAsync(CancellationToken cancellationToken = default) => ReadAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Reads the next sample, waiting at most <paramref name="timeout"/> without blocking a thread.</summary>
    /// <exception cref="TimeoutException">No sample arrived in time.</exception>
    /// <exception cref="WriterGoneException">A publisher died, or the last one left; everything they sent has been read.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Sample> ReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        SampleResult result = await TryReadAsync(timeout, cancellationToken).ConfigureAwait(false);
        return result.Status == ReadStatus.Success ? result.Sample : throw ThrowHelper.ReadFailed(result.Status, Topic, timeout);
    }

    /// <summary>
    /// Reads the next sample if one arrives within <paramref name="timeout"/>, without blocking a thread while it waits (it
    /// sleeps in the process's shared wait threads and never spins). Completes synchronously, without allocating, when a
    /// sample is ready.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another asynchronous read is in progress, or too many samples are held.</exception>
    public ValueTask<SampleResult> TryReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        lock (_samples.Sync)
        {
            if (TryTakeUnsynchronized(out Sample sample))
            {
                return new ValueTask<SampleResult>(new SampleResult(ReadStatus.Success, sample));
            }
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<SampleResult>(cancellationToken);
        }
        if (Interlocked.Exchange(ref _asyncBusy, 1) != 0)
        {
            throw new InvalidOperationException("Another asynchronous operation is already in progress; a subscriber runs one at a time.");
        }
        return WaitForSampleAsync(timeout, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SampleResult> WaitForSampleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _activeWaits);
        try
        {
            var schedule = new WaitSchedule(timeout, _options.PeerCheckInterval);
            bool drained = false;
            while (true)
            {
                if (_disposed)
                {
                    ThrowHelper.ThrowObjectDisposed(nameof(Subscriber));
                }
                lock (_samples.Sync)
                {
                    if (TryTakeUnsynchronized(out Sample sample))
                    {
                        return new SampleResult(ReadStatus.Success, sample);
                    }
                    ReadStatus gone = LookAroundUnsynchronized(schedule.PeerCheckDue());
                    if (gone != ReadStatus.Success)
                    {
                        return TryTakeUnsynchronized(out sample) ? new SampleResult(ReadStatus.Success, sample) : new SampleResult(gone, default);
                    }
                    if (schedule.Expired)
                    {
                        return new SampleResult(ReadStatus.TimedOut, default);
                    }
                }
                if (!drained)
                {
                    _queued.Drain();
                    Interlocked.MemoryBarrier();
                    drained = true;
                    continue;
                }
                if (await _asyncWait.WaitAsync(_queued, schedule.NextWake, cancellationToken).ConfigureAwait(false))
                {
                    Interlocked.MemoryBarrier();
                    drained = false;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _activeWaits);
            Volatile.Write(ref _asyncBusy, 0);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    async ValueTask<ReadResult> IFrameSource.TryReadAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        SampleResult result = await TryReadAsync(timeout, cancellationToken).ConfigureAwait(false);
        return new ReadResult(result.Status, result.Sample.Frame);
    }

    /// <summary>
    /// Reads samples as they arrive until the last publisher leaves. Each sample is released when the next one is requested
    /// (or the loop ends); dispose it earlier if you are done with it sooner.
    /// </summary>
    /// <exception cref="WriterGoneException">A publisher died (read on with a new loop: a new publisher may take over).</exception>
    public async IAsyncEnumerable<Sample> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            SampleResult result = await TryReadAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case ReadStatus.Success:
                    try
                    {
                        yield return result.Sample;
                    }
                    finally
                    {
                        result.Sample.Dispose();
                    }
                    break;
                case ReadStatus.WriterDisconnected:
                    yield break;
                default:
                    throw ThrowHelper.ReadFailed(result.Status, Topic, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="handler"/> for every sample, on a thread of its own, until the returned subscription is disposed;
    /// each sample is released when the handler returns. Do not read from this subscriber in other ways meanwhile.
    /// </summary>
    public Subscription Subscribe(Action<Sample> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfDisposed();
        return new Subscription(this, handler);
    }
}
