using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Each wait strategy moves frames between a writer thread and a reader thread, times out and cancels.</summary>
public sealed class WaitStrategies : BufferTest
{
    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.BusySpin)]
    public void FramesRoundTripBetweenAWriterThreadAndAReaderThread(WaitStrategy strategy)
    {
        const int frames = 500;
        using var calls = new BlockingCalls(NewName(), strategy);

        Task writing = Safety.OnThread(() =>
        {
            for (int i = 1; i <= frames; i++)
            {
                calls.Writer.Write(Patterns.Create(100 + i % 200, seed: (ulong)i), Safety.Timeout);
            }
        });
        for (int i = 1; i <= frames; i++)
        {
            using Frame frame = calls.Reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 100 + i % 200, seed: (ulong)i);
        }

        Safety.Join(writing, "the writer");
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.BusySpin)]
    public void AReadOnAnEmptyBufferTimesOut(WaitStrategy strategy)
    {
        using var calls = new BlockingCalls(NewName(), strategy);

        Assert.Equal(ReadStatus.TimedOut, calls.Reader.TryRead(out _, Safety.Short));
        Assert.Throws<TimeoutException>(() => calls.Reader.Read(Safety.Short));
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.BusySpin)]
    public void AWriteOnAFullBufferTimesOut(WaitStrategy strategy)
    {
        using var calls = new BlockingCalls(NewName(), strategy);
        calls.FillBuffer();

        Assert.Equal(WriteStatus.TimedOut, calls.Writer.TryWrite(new byte[10], Safety.Short));
        Assert.Throws<TimeoutException>(() => calls.Writer.Loan(10, Safety.Short));
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.BusySpin)]
    public void ABlockedReadEndsWhenItsTokenIsCancelled(WaitStrategy strategy)
    {
        using var calls = new BlockingCalls(NewName(), strategy);
        using var cancellation = new CancellationTokenSource();
        Task reading = Safety.OnThread(() => calls.Reader.Read(cancellation.Token).Dispose());

        cancellation.CancelAfter(Safety.Short);

        Assert.ThrowsAny<OperationCanceledException>(() => Safety.Join(reading, "the reader"));
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.BusySpin)]
    public void ABlockedWriteEndsWhenItsTokenIsCancelled(WaitStrategy strategy)
    {
        using var calls = new BlockingCalls(NewName(), strategy);
        calls.FillBuffer();
        using var cancellation = new CancellationTokenSource();
        Task writing = Safety.OnThread(() => calls.Writer.Write(new byte[BlockingCalls.FrameLength], cancellation.Token));

        cancellation.CancelAfter(Safety.Short);

        Assert.ThrowsAny<OperationCanceledException>(() => Safety.Join(writing, "the writer"));
        Assert.Equal(4, calls.Writer.FramesWritten);
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    [InlineData(WaitStrategy.BusySpin)]
    public void ABlockedReaderWakesForAFrameWrittenLater(WaitStrategy strategy)
    {
        using var calls = new BlockingCalls(NewName(), strategy);
        using var started = new ManualResetEventSlim();
        Task<ulong> reading = Safety.OnThread(() =>
        {
            started.Set();
            using Frame frame = calls.Reader.Read(Safety.Timeout);
            return frame.Sequence;
        });
        Safety.Wait(started, "the reader thread starting");

        calls.Writer.Write(new byte[] { 1 }, Safety.Timeout);

        Assert.Equal(1UL, Safety.Join(reading, "the reader"));
    }
}
