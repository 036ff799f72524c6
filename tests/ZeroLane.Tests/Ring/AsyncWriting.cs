using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>WriteAsync, TryWriteAsync and LoanAsync write frames, wait for space, time out and cancel.</summary>
public sealed class AsyncWriting : RingPairTest
{
    private const int PayloadSize = 1024;

    public AsyncWriting()
        : base(new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize })
    {
    }

    private void Fill()
    {
        while (Writer.TryWrite(new byte[240], TimeSpan.Zero) == WriteStatus.Success)
        {
        }
    }

    [Fact]
    public async Task WriteAsyncOfMemoryAndOfASequenceAndLoanAsyncAllArriveInOrder()
    {
        await Writer.WriteAsync(Patterns.Create(10, seed: 1).AsMemory()).AsTask().WaitAsync(Safety.Timeout);
        await Writer.WriteAsync(SequenceBuilder.From(Patterns.Create(20, seed: 2)[..5], Patterns.Create(20, seed: 2)[5..])).AsTask().WaitAsync(Safety.Timeout);
        Assert.Equal(WriteStatus.Success, await Writer.TryWriteAsync(Patterns.Create(30, seed: 3).AsMemory(), Safety.Timeout));
        FrameLoan loan = await Writer.LoanAsync(40).AsTask().WaitAsync(Safety.Timeout);
        Patterns.Fill(loan.Span, seed: 4);
        loan.Commit(40);

        for (ulong i = 1; i <= 4; i++)
        {
            using Frame frame = Reader.Read(Safety.Timeout);
            Assert.Equal(i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 10 * (int)i, seed: i);
        }
    }

    [Fact]
    public async Task APendingWriteAsyncCompletesWhenTheReaderReleasesSpace()
    {
        Fill();
        Task pending = Writer.WriteAsync(Patterns.Create(240, seed: 77).AsMemory()).AsTask();
        Assert.False(pending.IsCompleted);

        Reader.Read(Safety.Timeout).Dispose();

        await pending.WaitAsync(Safety.Timeout);
        for (int i = 0; i < 3; i++)
        {
            Reader.Read(Safety.Timeout).Dispose();
        }
        using Frame last = Reader.Read(Safety.Timeout);
        Patterns.AssertMatches(last.Span, 240, seed: 77);
    }

    [Fact]
    public async Task APendingLoanAsyncCompletesWhenTheReaderReleasesSpace()
    {
        Fill();
        Task<FrameLoan> pending = Writer.LoanAsync(240).AsTask();
        Assert.False(pending.IsCompleted);

        Reader.Read(Safety.Timeout).Dispose();

        FrameLoan loan = await pending.WaitAsync(Safety.Timeout);
        loan.Span[0] = 42;
        loan.Commit(1);
    }

    [Fact]
    public async Task TryWriteAsyncReportsATimeoutWhileTheBufferStaysFull()
    {
        Fill();

        WriteStatus status = await Writer.TryWriteAsync(new byte[240].AsMemory(), Safety.Short).AsTask().WaitAsync(Safety.Timeout);

        Assert.Equal(WriteStatus.TimedOut, status);
    }

    [Fact]
    public async Task CancellingAPendingWriteAsyncThrowsOperationCanceledExceptionAndWritesNothing()
    {
        Fill();
        long written = Writer.FramesWritten;
        using var cancellation = new CancellationTokenSource();
        Task pending = Writer.WriteAsync(new byte[240].AsMemory(), cancellation.Token).AsTask();
        Assert.False(pending.IsCompleted);

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Safety.Timeout));
        Assert.Equal(written, Writer.FramesWritten);
    }

    [Fact]
    public async Task CancellingAPendingLoanAsyncThrowsOperationCanceledException()
    {
        Fill();
        using var cancellation = new CancellationTokenSource();
        Task<FrameLoan> pending = Writer.LoanAsync(240, cancellation.Token).AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Safety.Timeout));
    }

    [Fact]
    public async Task AsyncWritesWithAnAlreadyCancelledTokenOnAFullBufferThrowOperationCanceledException()
    {
        Fill();
        var cancelled = new CancellationToken(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Writer.WriteAsync(new byte[240].AsMemory(), cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Writer.LoanAsync(240, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Writer.TryWriteAsync(new byte[240].AsMemory(), Safety.Timeout, cancelled));
    }

    [Fact]
    public async Task DisposingTheWriterEndsAWriteAsyncThatIsAlreadyWaiting()
    {
        Fill();
        Assert.Equal(WriteStatus.TimedOut, await Writer.TryWriteAsync(new byte[240].AsMemory(), Safety.Short));
        long waitsBefore = Writer.AsyncWaitsStarted;
        Task pending = Writer.WriteAsync(new byte[240].AsMemory()).AsTask();
        Safety.Until(() => Writer.AsyncWaitsStarted > waitsBefore, "the pending write's wait");

        Writer.Dispose();

        Task finished = await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.True(finished == pending, "the pending write never completed after the writer was disposed");
        Assert.IsType<ObjectDisposedException>(await Record.ExceptionAsync(() => pending));
        Assert.Equal(4UL, Reader.GetStats().FramesWritten);
    }

    [Fact]
    public async Task DisposingTheWriterRightAfterStartingAWriteAsyncEndsThatWrite()
    {
        Fill();
        Task pending = Writer.WriteAsync(new byte[240].AsMemory()).AsTask();

        Writer.Dispose();

        Task finished = await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.True(finished == pending, "the pending write never completed after the writer was disposed");
        Assert.IsType<ObjectDisposedException>(await Record.ExceptionAsync(() => pending));
    }
}
