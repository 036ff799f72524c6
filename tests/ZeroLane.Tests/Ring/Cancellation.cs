using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Every blocking call honours its cancellation token: already cancelled, or cancelled while it waits (defect 10).</summary>
public sealed class Cancellation : BufferTest
{
    public static TheoryData<string> ReaderCalls => BlockingCalls.ReaderCalls;

    public static TheoryData<string> WriterCalls => BlockingCalls.WriterCalls;

    [Theory]
    [MemberData(nameof(ReaderCalls))]
    public void AReaderCallWithAnAlreadyCancelledTokenThrowsOperationCanceledException(string call)
    {
        using var calls = new BlockingCalls(NewName());

        Assert.ThrowsAny<OperationCanceledException>(() => calls.RunReader(call, Safety.Timeout, new CancellationToken(canceled: true)));
    }

    [Theory]
    [MemberData(nameof(WriterCalls))]
    public void AWriterCallWithAnAlreadyCancelledTokenOnAFullBufferThrowsOperationCanceledException(string call)
    {
        using var calls = new BlockingCalls(NewName());
        calls.FillBuffer();

        Assert.ThrowsAny<OperationCanceledException>(() => calls.RunWriter(call, Safety.Timeout, new CancellationToken(canceled: true)));
        Assert.Equal(4, calls.Writer.FramesWritten);
    }

    [Theory]
    [MemberData(nameof(ReaderCalls))]
    public void AReaderCallCancelledWhileItWaitsThrowsOperationCanceledException(string call)
    {
        using var calls = new BlockingCalls(NewName());
        using var cancellation = new CancellationTokenSource();

        Task waiting = Safety.OnThread(() => calls.RunReader(call, Safety.Timeout, cancellation.Token));
        cancellation.CancelAfter(Safety.Short);

        Assert.True(((IAsyncResult)waiting).AsyncWaitHandle.WaitOne(Safety.Timeout), "the cancelled call did not return");
        Assert.IsAssignableFrom<OperationCanceledException>(waiting.Exception?.InnerException);
    }

    [Theory]
    [MemberData(nameof(WriterCalls))]
    public void AWriterCallCancelledWhileItWaitsThrowsOperationCanceledExceptionAndWritesNothing(string call)
    {
        using var calls = new BlockingCalls(NewName());
        calls.FillBuffer();
        using var cancellation = new CancellationTokenSource();

        Task waiting = Safety.OnThread(() => calls.RunWriter(call, Safety.Timeout, cancellation.Token));
        cancellation.CancelAfter(Safety.Short);

        Assert.True(((IAsyncResult)waiting).AsyncWaitHandle.WaitOne(Safety.Timeout), "the cancelled call did not return");
        Assert.IsAssignableFrom<OperationCanceledException>(waiting.Exception?.InnerException);
        Assert.Equal(4, calls.Writer.FramesWritten);
        Assert.Equal(4UL, calls.Reader.GetStats().FramesWritten);
    }

    [Theory]
    [MemberData(nameof(WriterCalls))]
    public void AWriterWritesNormallyAfterACancelledCall(string call)
    {
        using var calls = new BlockingCalls(NewName());
        calls.FillBuffer();
        Assert.ThrowsAny<OperationCanceledException>(() => calls.RunWriter(call, Safety.Timeout, new CancellationToken(canceled: true)));

        calls.Reader.Read(Safety.Timeout).Dispose();

        Assert.Equal(WriteStatus.Success, calls.RunWriter(call, Safety.Timeout, CancellationToken.None));
        for (ulong i = 2; i <= 5; i++)
        {
            using Frame frame = calls.Reader.Read(Safety.Timeout);
            Assert.Equal(i, frame.Sequence);
        }
    }

    [Theory]
    [MemberData(nameof(ReaderCalls))]
    public void AReaderReadsNormallyAfterACancelledCall(string call)
    {
        using var calls = new BlockingCalls(NewName());
        Assert.ThrowsAny<OperationCanceledException>(() => calls.RunReader(call, Safety.Timeout, new CancellationToken(canceled: true)));

        calls.Writer.Write(new byte[] { 1, 2, 3 }, Safety.Timeout);

        Assert.Equal(ReadStatus.Success, calls.RunReader(call, Safety.Timeout, CancellationToken.None));
        Assert.Equal(1, calls.Reader.FramesRead);
    }
}
