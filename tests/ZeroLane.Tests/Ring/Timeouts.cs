using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Every blocking call takes a timeout: Try calls report TimedOut, the others throw TimeoutException (defect 10).</summary>
public sealed class Timeouts : BufferTest
{
    [Theory]
    [InlineData("ReadWithTimeout")]
    [InlineData("TryRead")]
    public void AReaderCallOnAnEmptyBufferTimesOut(string call)
    {
        using var calls = new BlockingCalls(NewName());

        if (call.StartsWith("Try", StringComparison.Ordinal))
        {
            Assert.Equal(ReadStatus.TimedOut, calls.RunReader(call, Safety.Short, CancellationToken.None));
        }
        else
        {
            Assert.Throws<TimeoutException>(() => calls.RunReader(call, Safety.Short, CancellationToken.None));
        }
    }

    [Theory]
    [InlineData("WriteWithTimeout")]
    [InlineData("TryWrite")]
    [InlineData("WriteSequenceWithTimeout")]
    [InlineData("TryWriteSequence")]
    [InlineData("LoanWithTimeout")]
    [InlineData("TryLoan")]
    public void AWriterCallOnAFullBufferTimesOutAndWritesNothing(string call)
    {
        using var calls = new BlockingCalls(NewName());
        calls.FillBuffer();

        if (call.StartsWith("Try", StringComparison.Ordinal))
        {
            Assert.Equal(WriteStatus.TimedOut, calls.RunWriter(call, Safety.Short, CancellationToken.None));
        }
        else
        {
            Assert.Throws<TimeoutException>(() => calls.RunWriter(call, Safety.Short, CancellationToken.None));
        }
        Assert.Equal(4, calls.Writer.FramesWritten);
    }

    [Theory]
    [InlineData("TryRead")]
    [InlineData("ReadWithTimeout")]
    public void AZeroTimeoutReadReturnsAtOnceWithAFrameThatIsThere(string call)
    {
        using var calls = new BlockingCalls(NewName());
        calls.Writer.Write(new byte[] { 9 }, Safety.Timeout);

        Assert.Equal(ReadStatus.Success, calls.RunReader(call, TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public void ATimedOutWriteLeavesTheWriterUsable()
    {
        using var calls = new BlockingCalls(NewName());
        calls.FillBuffer();
        Assert.Equal(WriteStatus.TimedOut, calls.Writer.TryWrite(new byte[BlockingCalls.FrameLength], Safety.Short));

        calls.Reader.Read(Safety.Timeout).Dispose();

        Assert.Equal(WriteStatus.Success, calls.Writer.TryWrite(Patterns.Create(BlockingCalls.FrameLength, seed: 5), Safety.Timeout));
        for (ulong i = 2; i <= 5; i++)
        {
            using Frame frame = calls.Reader.Read(Safety.Timeout);
            Assert.Equal(i, frame.Sequence);
        }
    }
}
