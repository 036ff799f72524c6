using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A reader or writer runs one asynchronous operation at a time; a second concurrent one is refused.</summary>
public sealed class OneAsyncOperationAtATime : RingPairTest
{
    /// <summary>How long a cancelled or timed-out pending operation may take to finish before the test calls it stuck.</summary>
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(5);

    private const int PayloadSize = 1024;

    public OneAsyncOperationAtATime()
        : base(new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize })
    {
    }

    [Fact]
    public async Task ASecondReadAsyncWhileOneIsPendingThrowsInvalidOperationException()
    {
        using var cancellation = new CancellationTokenSource();
        Task<Frame> first = Reader.ReadAsync(cancellation.Token).AsTask();
        Assert.False(first.IsCompleted);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Reader.ReadAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Reader.TryReadAsync(Safety.Timeout));

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(s_settle));
    }

    [Fact]
    public async Task ASecondWriteAsyncWhileOneIsPendingThrowsInvalidOperationException()
    {
        while (Writer.TryWrite(new byte[240], TimeSpan.Zero) == WriteStatus.Success)
        {
        }
        using var cancellation = new CancellationTokenSource();
        Task first = Writer.WriteAsync(new byte[240].AsMemory(), cancellation.Token).AsTask();
        Assert.False(first.IsCompleted);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Writer.WriteAsync(new byte[240].AsMemory()));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Writer.LoanAsync(240));

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(s_settle));
    }

    /// <summary>
    /// The second WriteAsync would fit in the space that is free while the first (larger) one waits. It must
    /// still be refused: accepting it would run two writes on one writer at once (the pending one on its
    /// waiting thread), overtaking the pending frame and racing on the write position.
    /// </summary>
    [Fact]
    public async Task ASecondWriteAsyncIsRefusedEvenWhenItsFrameWouldFitWhileTheFirstWaits()
    {
        // Arrange write_pos behind the oldest unread byte (after a wrap) with 96 bytes free in front of it:
        // a 200-byte frame must wait there, a 10-byte frame fits at once.
        Writer.Write(new byte[496], Safety.Timeout);      // [0, 512)
        Writer.Write(new byte[240], Safety.Timeout);      // [512, 768)
        Reader.Read(Safety.Timeout).Dispose();            // frees [0, 512)
        Writer.Write(new byte[400], Safety.Timeout);      // marker at 768, frame at [0, 416)
        Assert.Equal(96, Writer.GetStats().FreeBytes);
        using var cancellation = new CancellationTokenSource();
        Task first = Writer.WriteAsync(Patterns.Create(200, seed: 2).AsMemory(), cancellation.Token).AsTask();
        Assert.False(first.IsCompleted);

        Exception? second = await Record.ExceptionAsync(async () => await Writer.WriteAsync(Patterns.Create(10, seed: 3).AsMemory()));

        cancellation.Cancel();
        await Record.ExceptionAsync(() => first.WaitAsync(s_settle));
        Assert.IsType<InvalidOperationException>(second);
    }

    [Fact]
    public async Task ARefusedSecondReadAsyncLeavesThePendingReadsTimeoutAndTokenAlone()
    {
        Task<ReadResult> first = Reader.TryReadAsync(Safety.Short).AsTask();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Reader.TryReadAsync(Timeout.InfiniteTimeSpan));

        Task finished = await Task.WhenAny(first, Task.Delay(s_settle));
        Assert.True(finished == first, "the pending read took the refused call's infinite timeout instead of its own");
        Assert.Equal(ReadStatus.TimedOut, (await first).Status);
    }

    [Fact]
    public async Task ARefusedSecondWriteAsyncLeavesThePendingWritesDataAlone()
    {
        while (Writer.TryWrite(new byte[240], TimeSpan.Zero) == WriteStatus.Success)
        {
        }
        Task first = Writer.WriteAsync(Patterns.Create(240, seed: 1).AsMemory()).AsTask();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Writer.WriteAsync(Patterns.Create(200, seed: 2).AsMemory()));

        for (int i = 0; i < 4; i++)
        {
            Reader.Read(Safety.Timeout).Dispose();
        }
        await first.WaitAsync(Safety.Timeout);
        using Frame frame = Reader.Read(Safety.Timeout);
        Patterns.AssertMatches(frame.Span, 240, seed: 1);
    }
}
