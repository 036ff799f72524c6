using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>A message written into a ring frame comes out of it with the same body and parts, in order.</summary>
public sealed class MessagesRoundTripThroughTheRing : BufferTest
{
    public static TheoryData<int> PartCounts => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8 };

    [Theory]
    [MemberData(nameof(PartCounts))]
    public void AMessageOfAnyNumberOfPartsComesBackWithTheSameBodyAndParts(int partCount)
    {
        string name = NewName("msg-parts");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        int[] lengths = Enumerable.Range(0, partCount).Select(i => 100 * i + 17).ToArray();
        using Message sent = PatternedMessages.Create(seed: 7, bodyLength: 33, lengths);

        writer.WriteMessage(sent, Safety.Timeout);
        using Message received = reader.ReadMessage(Safety.Timeout);

        PatternedMessages.AssertMatches(received, seed: 7, bodyLength: 33, lengths);
    }

    [Fact]
    public void EmptyBodiesAndEmptyPartsKeepTheirPlaces()
    {
        string name = NewName("msg-empty");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        int[] lengths = [0, 5, 0, 0, 9, 0];

        writer.WriteMessage(PatternedMessages.Create(1, 0, lengths), Safety.Timeout);
        writer.WriteMessage(Message.Create(ReadOnlyMemory<byte>.Empty), Safety.Timeout);

        using (Message received = reader.ReadMessage(Safety.Timeout))
        {
            PatternedMessages.AssertMatches(received, 1, 0, lengths);
        }
        using (Message empty = reader.ReadMessage(Safety.Timeout))
        {
            Assert.True(empty.Body.IsEmpty);
            Assert.Equal(0, empty.PartCount);
        }
    }

    [Fact]
    public void TheRingFrameHoldsExactlyTheBytesTheMessageHasOnASocket()
    {
        string name = NewName("msg-bytes");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        using Message sent = PatternedMessages.Create(3, 10, 20, 0, 30);
        byte[] expected = new byte[MessageEncoding.TotalLength(sent)];
        int offset = MessageEncoding.WriteHeader(sent, expected);
        foreach (ReadOnlyMemory<byte> segment in new[] { sent.Body }.Concat(sent.Parts.ToArray()))
        {
            segment.Span.CopyTo(expected.AsSpan(offset));
            offset += segment.Length;
        }

        writer.WriteMessage(sent, Safety.Timeout);
        using Frame frame = reader.Read(Safety.Timeout);

        Assert.Equal(expected, frame.Span.ToArray());
    }

    [Fact]
    public void EightPartsOfOneMebibyteEachArriveIntact()
    {
        string name = NewName("msg-big");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 16 << 20 });
        using var writer = new RingWriter(name);
        int[] lengths = Enumerable.Repeat(1 << 20, 8).ToArray();

        writer.WriteMessage(PatternedMessages.Create(9, 64, lengths), Safety.Timeout);
        using Message received = reader.ReadMessage(Safety.Timeout);

        PatternedMessages.AssertMatches(received, 9, 64, lengths);
        Assert.Equal(64 + (8L << 20), received.Length);
    }

    [Fact]
    public void MessagesOfVariedSizesWrapAroundASmallRingInOrder()
    {
        string name = NewName("msg-wrap");
        const int count = 3_000;
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);
        static int[] LengthsOf(int i) => Enumerable.Range(0, i % 5).Select(p => (i * 37 + p * 1_001) % 6_000).ToArray();
        static int BodyOf(int i) => (i * 13) % 300;

        Task producer = Safety.OnThread(() =>
        {
            for (int i = 0; i < count; i++)
            {
                using Message message = PatternedMessages.Create((ulong)i, BodyOf(i), LengthsOf(i));
                writer.WriteMessage(message, Safety.Timeout);
            }
        });
        for (int i = 0; i < count; i++)
        {
            using Message received = reader.ReadMessage(Safety.Timeout);
            PatternedMessages.AssertMatches(received, (ulong)i, BodyOf(i), LengthsOf(i));
        }
        Safety.Join(producer, "the writer");

        Assert.True(writer.BytesWritten > 20 * 64 * 1024, "the messages should have wrapped the ring many times");
    }

    [Fact]
    public async Task TheAsyncMethodsCarryManyMessagesInOrder()
    {
        string name = NewName("msg-async");
        const int count = 500;
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 32 * 1024 });
        using var writer = new RingWriter(name);

        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < count; i++)
            {
                using Message message = PatternedMessages.Create((ulong)i, 8, i % 3000, 100);
                await writer.WriteMessageAsync(message);
            }
        });
        for (int i = 0; i < count; i++)
        {
            using Message received = await reader.ReadMessageAsync().AsTask().WaitAsync(Safety.Timeout);
            PatternedMessages.AssertMatches(received, (ulong)i, 8, i % 3000, 100);
        }
        await producer.WaitAsync(Safety.Timeout);
    }

    [Fact]
    public void TryMethodsReturnTimeoutsInsteadOfThrowing()
    {
        string name = NewName("msg-try");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        Assert.Equal(ReadStatus.TimedOut, reader.TryReadMessage(out Message? none, Safety.Short));
        Assert.Null(none);
        using Message large = PatternedMessages.Create(1, 3000);
        Assert.Equal(WriteStatus.Success, writer.TryWriteMessage(large, Safety.Timeout));
        Assert.Equal(WriteStatus.TimedOut, writer.TryWriteMessage(large, Safety.Short));
        Assert.Equal(ReadStatus.Success, reader.TryReadMessage(out Message? received, Safety.Timeout));
        using (received)
        {
            PatternedMessages.AssertMatches(received!, 1, 3000);
        }
    }
}
