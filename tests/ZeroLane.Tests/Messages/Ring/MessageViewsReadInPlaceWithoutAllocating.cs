using System.Buffers.Binary;
using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>
/// <see cref="FrameMessages.TryReadMessageView"/> reads a message in place in its ring frame: the same body and
/// parts as <see cref="Message"/>, validated the same way, nothing allocated per message, and nothing readable after
/// the view is disposed.
/// </summary>
public sealed class MessageViewsReadInPlaceWithoutAllocating : BufferTest
{
    private const int Warmup = 2_000;
    private const int Measured = 10_000;

    [Theory]
    [InlineData(0, new int[0])]
    [InlineData(16, new[] { 100 })]
    [InlineData(0, new[] { 0, 7, 0 })]
    [InlineData(64, new[] { 1, 4096, 65536, 3 })]
    public void TheViewHoldsTheBodyAndEveryPartInPlace(int bodyLength, int[] partLengths)
    {
        string name = NewName("view");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        using Message sent = PatternedMessages.Create(9, bodyLength, partLengths);
        writer.WriteMessage(sent, Safety.Timeout);

        Assert.Equal(ReadStatus.Success, reader.TryReadMessageView(out MessageView view, Safety.Timeout));
        using (view)
        {
            Assert.Equal(1UL, view.Sequence);
            Assert.Equal(partLengths.Length, view.PartCount);
            Assert.Equal(sent.Length, view.Length);
            Patterns.AssertMatches(view.Body, bodyLength, 9);
            for (int i = 0; i < partLengths.Length; i++)
            {
                Patterns.AssertMatches(view.GetPart(i), partLengths[i], PatternedMessages.PartSeed(9, i));
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => view.GetPart(partLengths.Length).Length);
            Assert.Throws<ArgumentOutOfRangeException>(() => view.GetPart(-1).Length);
        }
        Assert.True(view.IsReleased);
        Assert.Equal(0, reader.FramesHeld);
    }

    [Fact]
    public void NothingIsReadableAfterTheViewIsDisposed()
    {
        string name = NewName("view-disposed");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        writer.WriteMessage(PatternedMessages.Create(1, 8, 8), Safety.Timeout);
        Assert.Equal(ReadStatus.Success, reader.TryReadMessageView(out MessageView view, Safety.Timeout));

        view.Dispose();
        view.Dispose();

        Assert.Throws<ObjectDisposedException>(() => view.Body.Length);
        Assert.Throws<ObjectDisposedException>(() => view.GetPart(0).Length);
    }

    [Fact]
    public void AFrameThatIsNotAMessageIsRejectedAndReleased()
    {
        string name = NewName("view-lie");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        using Message message = PatternedMessages.Create(1, 10, 20, 30);
        byte[] frame = new byte[MessageEncoding.TotalLength(message)];
        MessageEncoding.WriteHeader(message, frame);
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(24), 21); // part 0 claims a byte more than it has
        writer.Write(frame, Safety.Timeout);
        writer.Write(new byte[5], Safety.Timeout); // too short for a prefix

        Assert.Throws<MessageFormatException>(() => reader.TryReadMessageView(out _, Safety.Timeout));
        Assert.Throws<MessageFormatException>(() => reader.TryReadMessageView(out _, Safety.Timeout));

        Assert.Equal(0, reader.FramesHeld);
        writer.WriteMessage(PatternedMessages.Create(2, 4, 8), Safety.Timeout);
        Assert.Equal(ReadStatus.Success, reader.TryReadMessageView(out MessageView next, Safety.Timeout));
        using (next)
        {
            Patterns.AssertMatches(next.GetPart(0), 8, PatternedMessages.PartSeed(2, 0));
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(64 * 1024)]
    public void ReadingAndReleasingAllocatesNothingPerMessage(int partLength)
    {
        string name = NewName("view-alloc");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        // One message, written again and again: only the receive side is measured here (the send side has its own test).
        using Message message = PatternedMessages.Create(3, 16, partLength, partLength / 2, 8);
        long checksum = 0;

        void Cycle()
        {
            if (writer.TryWriteMessage(message, Safety.Timeout) != WriteStatus.Success ||
                reader.TryReadMessageView(out MessageView view, Safety.Timeout) != ReadStatus.Success)
            {
                throw new InvalidOperationException("The message did not go through.");
            }
            checksum += view.Body[0] + view.GetPart(0)[partLength - 1] + view.GetPart(2).Length + view.PartCount;
            view.Dispose();
        }

        long allocated = SteadyState.AllocatedBytes(Cycle, Warmup, Measured);

        Assert.True(allocated == 0, $"{allocated} bytes allocated over {Measured} messages ({(double)allocated / Measured:F2} per message)");
        long perCycle = message.Body.Span[0] + message.GetPart(0).Span[partLength - 1] + 8 + 3;
        Assert.Equal((Warmup + 2 * Measured) * perCycle, checksum);
    }
}
