using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>A message whose frame can never fit the ring is refused at once with a message that says so.</summary>
public sealed class MessagesTooLargeForTheRingAreRefused : BufferTest
{
    [Fact]
    public void WritingAMessageLargerThanTheLargestFrameFailsAtOnceNamingBothSizes()
    {
        string name = NewName("msg-large");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);
        using Message message = PatternedMessages.Create(1, 10, 40_000, 40_000);

        var failure = Assert.Throws<FrameTooLargeException>(() => writer.TryWriteMessage(message, Timeout.InfiniteTimeSpan));

        Assert.Contains(MessageEncoding.TotalLength(message).ToString(), failure.Message);
        Assert.Contains(writer.MaxFrameLength.ToString(), failure.Message);
        Assert.Equal(0, writer.FramesWritten);
        // Nothing is left open: a message that fits goes through.
        writer.WriteMessage(PatternedMessages.Create(2, 10, 100), Safety.Timeout);
        using Message received = reader.ReadMessage(Safety.Timeout);
        PatternedMessages.AssertMatches(received, 2, 10, 100);
    }

    [Fact]
    public void BeginningAMessageLargerThanTheLargestFrameFailsAtOnce()
    {
        string name = NewName("msg-large-loan");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);

        Assert.Throws<FrameTooLargeException>(() => writer.BeginMessage(10, [70_000], Timeout.InfiniteTimeSpan));
    }
}
