using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>ReadAsync, TryReadAsync and ReadAllAsync deliver frames, wait for later ones, time out and cancel.</summary>
public sealed class AsyncReading : RingPairTest
{

    public AsyncReading()
        : base(new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 })
    {
    }

    [Fact]
    public async Task ReadAsyncReturnsAFrameThatIsAlreadyThere()
    {
        Writer.Write(Patterns.Create(50, seed: 1), Safety.Timeout);

        using Frame frame = await Reader.ReadAsync().AsTask().WaitAsync(Safety.Timeout);

        Assert.Equal(1UL, frame.Sequence);
        Patterns.AssertMatches(frame.Span, 50, seed: 1);
    }

    [Fact]
    public async Task APendingReadAsyncCompletesWhenAFrameIsWrittenLater()
    {
        Task<Frame> pending = Reader.ReadAsync().AsTask();
        Assert.False(pending.IsCompleted);

        Writer.Write(Patterns.Create(50, seed: 1), Safety.Timeout);

        using Frame frame = await pending.WaitAsync(Safety.Timeout);
        Patterns.AssertMatches(frame.Span, 50, seed: 1);
    }

    [Fact]
    public async Task TryReadAsyncReportsATimeoutWhenNoFrameArrives()
    {
        ReadResult result = await Reader.TryReadAsync(Safety.Short).AsTask().WaitAsync(Safety.Timeout);

        Assert.Equal(ReadStatus.TimedOut, result.Status);
        Assert.False(result.Frame.IsValid);
    }

    [Fact]
    public async Task TryReadAsyncReturnsAFrameThatArrivesWithinItsTimeout()
    {
        ValueTask<ReadResult> pending = Reader.TryReadAsync(Safety.Timeout);
        Writer.Write(Patterns.Create(8, seed: 3), Safety.Timeout);

        ReadResult result = await pending.AsTask().WaitAsync(Safety.Timeout);

        Assert.Equal(ReadStatus.Success, result.Status);
        using Frame frame = result.Frame;
        Patterns.AssertMatches(frame.Span, 8, seed: 3);
    }

    [Fact]
    public async Task CancellingAPendingReadAsyncThrowsOperationCanceledException()
    {
        using var cancellation = new CancellationTokenSource();
        Task<Frame> pending = Reader.ReadAsync(cancellation.Token).AsTask();
        Assert.False(pending.IsCompleted);

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Safety.Timeout));
    }

    [Fact]
    public async Task ReadAsyncWithAnAlreadyCancelledTokenThrowsOperationCanceledException()
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Reader.ReadAsync(new CancellationToken(canceled: true)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Reader.TryReadAsync(Safety.Timeout, new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task TheReaderReadsAsynchronouslyAgainAfterACancelledRead()
    {
        using (var cancellation = new CancellationTokenSource())
        {
            Task<Frame> cancelled = Reader.ReadAsync(cancellation.Token).AsTask();
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Safety.Timeout));
        }
        Writer.Write(Patterns.Create(5, seed: 9), Safety.Timeout);

        using Frame frame = await Reader.ReadAsync().AsTask().WaitAsync(Safety.Timeout);

        Patterns.AssertMatches(frame.Span, 5, seed: 9);
    }

    [Fact]
    public async Task ReadAllAsyncYieldsEveryFrameInOrderAndEndsWhenTheWriterDisconnects()
    {
        for (ulong i = 1; i <= 10; i++)
        {
            Writer.Write(Patterns.Create(20, seed: i), Safety.Timeout);
        }
        Writer.Dispose();

        var previous = default(Frame);
        ulong expected = 1;
        using var cancellation = new CancellationTokenSource(Safety.Timeout);
        await foreach (Frame frame in Reader.ReadAllAsync(cancellation.Token))
        {
            Assert.True(!previous.IsValid || previous.IsReleased, "the previous frame is released when the next is requested");
            Assert.Equal(expected++, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 20, seed: frame.Sequence);
            previous = frame;
        }

        Assert.Equal(11UL, expected);
        Assert.True(previous.IsReleased);
        Assert.Equal(4096, Reader.GetStats().FreeBytes);
    }

    [Fact]
    public async Task LeavingReadAllAsyncDuringAnIterationReleasesThatIterationsFrame()
    {
        Writer.Write(Patterns.Create(20, seed: 1), Safety.Timeout);
        Writer.Write(Patterns.Create(20, seed: 2), Safety.Timeout);

        var kept = default(Frame);
        using var cancellation = new CancellationTokenSource(Safety.Timeout);
        await foreach (Frame frame in Reader.ReadAllAsync(cancellation.Token))
        {
            kept = frame;
            Assert.Equal(1, Reader.FramesHeld);
            break;
        }

        Assert.True(kept.IsReleased);
        Assert.Equal(0, Reader.FramesHeld);
        Assert.Throws<ObjectDisposedException>(() => kept.Span.Length);
    }

    [Fact]
    public async Task AFrameOfReadAllAsyncMayBeDisposedEarlyInItsIteration()
    {
        for (ulong i = 1; i <= 3; i++)
        {
            Writer.Write(Patterns.Create(20, seed: i), Safety.Timeout);
        }
        Writer.Dispose();

        int count = 0;
        using var cancellation = new CancellationTokenSource(Safety.Timeout);
        await foreach (Frame frame in Reader.ReadAllAsync(cancellation.Token))
        {
            frame.Dispose();
            Assert.Equal(0, Reader.FramesHeld);
            count++;
        }

        Assert.Equal(3, count);
    }

    [Fact]
    public async Task ReadAllAsyncDeliversFramesWrittenWhileItWaits()
    {
        using var cancellation = new CancellationTokenSource(Safety.Timeout);
        Task<int> consuming = Task.Run(async () =>
        {
            int count = 0;
            await foreach (Frame frame in Reader.ReadAllAsync(cancellation.Token))
            {
                Patterns.AssertMatches(frame.Span, 100, seed: frame.Sequence);
                count++;
            }
            return count;
        });

        for (ulong i = 1; i <= 200; i++)
        {
            Writer.Write(Patterns.Create(100, seed: i), Safety.Timeout);
        }
        Writer.Dispose();

        Assert.Equal(200, await consuming.WaitAsync(Safety.Timeout));
    }

    [Fact]
    public async Task ReadAsyncThrowsWriterGoneWhenTheWriterDisconnectsAfterItsLastFrame()
    {
        Writer.Write(Patterns.Create(5, seed: 1), Safety.Timeout);
        Writer.Dispose();

        using (Frame last = await Reader.ReadAsync().AsTask().WaitAsync(Safety.Timeout))
        {
            Assert.Equal(1UL, last.Sequence);
        }
        var gone = await Assert.ThrowsAsync<WriterGoneException>(() => Reader.ReadAsync().AsTask().WaitAsync(Safety.Timeout));
        Assert.False(gone.Crashed);
    }

    /// <summary>
    /// Disposed right after the read starts (before its waiting thread may have picked it up), the reader
    /// must still complete the pending read rather than leave its task pending for ever.
    /// </summary>
    [Fact]
    public async Task DisposingTheReaderRightAfterStartingAReadAsyncEndsThatRead()
    {
        Task<Frame> pending = Reader.ReadAsync().AsTask();

        Reader.Dispose();

        Task finished = await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.True(finished == pending, "the pending read never completed after the reader was disposed");
        Assert.IsType<ObjectDisposedException>(await Record.ExceptionAsync(() => pending));
    }

    [Fact]
    public async Task DisposingTheReaderEndsAReadAsyncThatIsAlreadyWaiting()
    {
        Assert.Equal(ReadStatus.TimedOut, (await Reader.TryReadAsync(Safety.Short)).Status);
        long waitsBefore = Reader.AsyncWaitsStarted;
        Task<Frame> pending = Reader.ReadAsync().AsTask();
        Safety.Until(() => Reader.AsyncWaitsStarted > waitsBefore, "the pending read's wait");

        Reader.Dispose();

        Task finished = await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.True(finished == pending, "the pending read never completed after the reader was disposed");
        Assert.IsType<ObjectDisposedException>(await Record.ExceptionAsync(() => pending));
    }
}
