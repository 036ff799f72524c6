using System.Buffers;
using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>
/// A message read from the ring is decoded in place: its body and parts point into the mapped frame, and
/// disposing the message releases the frame and makes every view of it unusable.
/// </summary>
public sealed class ReceivedMessagesAreSlicesOfTheRingFrame : BufferTest
{
    [Fact]
    public unsafe void TheBodyAndPartsPointIntoTheMappedFrame()
    {
        string name = NewName("msg-inplace");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        writer.WriteMessage(PatternedMessages.Create(5, 16, 1000, 2000), Safety.Timeout);

        Frame frame = reader.Read(Safety.Timeout);
        nint frameAddress;
        fixed (byte* pointer = frame.Span)
        {
            frameAddress = (nint)pointer;
        }
        using Message message = FrameMessages.DecodeFrame(frame, MessageLimits.Default);
        using MemoryHandle body = message.Body.Pin();
        using MemoryHandle part1 = message.GetPart(1).Pin();

        int bodyOffset = MessageEncoding.HeaderSize(2);
        Assert.Equal(frameAddress + bodyOffset, (nint)body.Pointer);
        Assert.Equal(frameAddress + bodyOffset + 16 + 1000, (nint)part1.Pointer);
        PatternedMessages.AssertMatches(message, 5, 16, 1000, 2000);
    }

    [Fact]
    public void DisposingTheMessageReleasesTheFrameAndInvalidatesItsMemory()
    {
        string name = NewName("msg-dispose");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 4096 });
        using var writer = new RingWriter(name);
        using Message sent = PatternedMessages.Create(1, 8, 3000);
        writer.WriteMessage(sent, Safety.Timeout);

        Message received = reader.ReadMessage(Safety.Timeout);
        ReadOnlyMemory<byte> part = received.GetPart(0);
        ReadOnlyMemory<byte> body = received.Body;
        Assert.Equal(1, reader.FramesHeld);
        // The held frame fills the ring: a second message of the same size cannot be written yet.
        Assert.Equal(WriteStatus.TimedOut, writer.TryWriteMessage(sent, Safety.Short));

        received.Dispose();

        Assert.Equal(0, reader.FramesHeld);
        Assert.Throws<ObjectDisposedException>(() => received.Body);
        Assert.Throws<ObjectDisposedException>(() => received.GetPart(0));
        Assert.Throws<ObjectDisposedException>(() => received.ToSequence());
        Assert.Throws<ObjectDisposedException>(() => part.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => body.Span.Length);
        Assert.Equal(WriteStatus.Success, writer.TryWriteMessage(sent, Safety.Timeout));
        using Message next = reader.ReadMessage(Safety.Timeout);
        PatternedMessages.AssertMatches(next, 1, 8, 3000);
    }

    [Fact]
    public void MessagesMayBeHeldAndDisposedInAnyOrder()
    {
        string name = NewName("msg-hold");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        for (int i = 0; i < 4; i++)
        {
            writer.WriteMessage(PatternedMessages.Create((ulong)i, 10, 500 + i), Safety.Timeout);
        }

        Message[] held = Enumerable.Range(0, 4).Select(_ => reader.ReadMessage(Safety.Timeout)).ToArray();
        held[2].Dispose();
        held[0].Dispose();

        PatternedMessages.AssertMatches(held[1], 1, 10, 501);
        PatternedMessages.AssertMatches(held[3], 3, 10, 503);
        held[3].Dispose();
        held[1].Dispose();
        Assert.Equal(0, reader.FramesHeld);
    }
}
