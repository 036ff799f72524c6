using System.Buffers.Binary;
using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>
/// A ring frame whose content is not exactly one message (a prefix that lies about the frame's length, lengths
/// that do not add up, too short for a prefix) is a <see cref="MessageFormatException"/>, and its frame is
/// released so the stream can go on.
/// </summary>
public sealed class RingFramesThatAreNotMessagesAreRejected : BufferTest
{
    public static TheoryData<long> PrefixErrors => new() { -1, 1, 1000, long.MaxValue / 2 };

    [Theory]
    [MemberData(nameof(PrefixErrors))]
    public void APrefixThatDoesNotMatchTheFrameLengthIsAMessageFrameException(long error)
    {
        string name = NewName("msg-lie");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        byte[] frame = FrameOf(PatternedMessages.Create(1, 10, 20, 30));
        ulong truth = BinaryPrimitives.ReadUInt64BigEndian(frame);
        BinaryPrimitives.WriteUInt64BigEndian(frame, (ulong)((long)truth + error));
        writer.Write(frame, Safety.Timeout);

        Assert.Throws<MessageFormatException>(() => reader.ReadMessage(Safety.Timeout));

        AssertTheStreamGoesOn(reader, writer);
    }

    [Fact]
    public void PartLengthsThatDoNotAddUpToTheFrameAreAMessageFrameException()
    {
        string name = NewName("msg-parts-lie");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        byte[] frame = FrameOf(PatternedMessages.Create(1, 10, 20, 30));
        // Part 0 claims one byte more, part 1 stays: the lengths overrun the frame.
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(24), 21);
        writer.Write(frame, Safety.Timeout);

        Assert.Throws<MessageFormatException>(() => reader.TryReadMessage(out _, Safety.Timeout));

        AssertTheStreamGoesOn(reader, writer);
    }

    [Fact]
    public void AFrameTooShortForAPrefixIsAMessageFrameException()
    {
        string name = NewName("msg-short");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        writer.Write(new byte[5], Safety.Timeout);

        Assert.Throws<MessageFormatException>(() => reader.ReadMessage(Safety.Timeout));

        AssertTheStreamGoesOn(reader, writer);
    }

    private static void AssertTheStreamGoesOn(RingReader reader, RingWriter writer)
    {
        Assert.Equal(0, reader.FramesHeld);
        writer.WriteMessage(PatternedMessages.Create(2, 4, 8), Safety.Timeout);
        using Message next = reader.ReadMessage(Safety.Timeout);
        PatternedMessages.AssertMatches(next, 2, 4, 8);
    }

    private static byte[] FrameOf(Message message)
    {
        byte[] frame = new byte[MessageEncoding.TotalLength(message)];
        int offset = MessageEncoding.WriteHeader(message, frame);
        message.Body.Span.CopyTo(frame.AsSpan(offset));
        offset += message.Body.Length;
        foreach (ReadOnlyMemory<byte> part in message.Parts)
        {
            part.Span.CopyTo(frame.AsSpan(offset));
            offset += part.Length;
        }
        return frame;
    }
}
