using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class MessagesRoundTripOverSockets
{
    public static TheoryData<SocketKind, int, int[]> Shapes()
    {
        var data = new TheoryData<SocketKind, int, int[]>();
        foreach (SocketKind kind in Enum.GetValues<SocketKind>())
        {
            data.Add(kind, 0, []);
            data.Add(kind, 0, [0]);
            data.Add(kind, 100, [0, 0, 0]);
            data.Add(kind, 5, [1]);
            data.Add(kind, 0, [1, 0, 2, 0, 3]);
            data.Add(kind, 1000, [65536, 10, 200000]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task EveryShapeOfMessageArrivesIntactIncludingEmptyBodiesAndEmptyParts(SocketKind kind, int bodyExtra, int[] parts)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            for (ulong sequence = 0; sequence < 3; sequence++)
            {
                using Message sent = TestMessages.Numbered(sequence, bodyExtra, parts);
                Task send = client.SendAsync(sent, HangGuard.Token).AsTask();
                using Message received = await server.ReceiveAsync(HangGuard.Token);
                await send;
                TestMessages.AssertNumbered(received, sequence, bodyExtra, parts);
            }
        }
    }

    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task AMessageWithNoBytesAtAllArrivesAsAnEmptyMessage(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message empty = Message.Create(ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);
            await client.SendAsync(empty, HangGuard.Token);
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            Assert.Equal(0, received.Body.Length);
            Assert.Equal(2, received.PartCount);
            Assert.Equal(0, received.Length);
        }
    }

    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task ABatchArrivesAsSeparateMessagesInOrder(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            Message[] batch = Enumerable.Range(0, 50).Select(i => TestMessages.Numbered((ulong)i, i % 7, i % 3 == 0 ? [] : [i, 0, 3])).ToArray();
            await client.SendAsync(batch, HangGuard.Token);
            for (int i = 0; i < batch.Length; i++)
            {
                using Message received = await server.ReceiveAsync(HangGuard.Token);
                TestMessages.AssertNumbered(received, (ulong)i, i % 7, i % 3 == 0 ? [] : [i, 0, 3]);
            }
            Assert.Equal(50, client.Sender.MessagesSent);
            foreach (Message message in batch)
            {
                message.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task MessagesFlowBothWaysOnOneConnection(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message request = TestMessages.Numbered(1, 10, 20);
            await client.SendAsync(request, HangGuard.Token);
            using (Message got = await server.ReceiveAsync(HangGuard.Token))
            {
                TestMessages.AssertNumbered(got, 1, 10, 20);
            }
            using Message reply = TestMessages.Numbered(2, 0, 5, 6);
            await server.SendAsync(reply, HangGuard.Token);
            using Message answer = await client.ReceiveAsync(HangGuard.Token);
            TestMessages.AssertNumbered(answer, 2, 0, 5, 6);
        }
    }

    [Fact]
    public async Task AReceivedMessageThrowsAfterItIsDisposed()
    {
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message sent = TestMessages.Numbered(7, 3, 100);
            await client.SendAsync(sent, HangGuard.Token);
            Message received = await server.ReceiveAsync(HangGuard.Token);
            ReadOnlyMemory<byte> part = received.GetPart(0);
            received.Dispose();
            Assert.Throws<ObjectDisposedException>(() => part.Span.Length);
            Assert.Throws<ObjectDisposedException>(() => received.Body);
        }
    }
}
