using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class LargeMessagesOverSockets
{
    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task A64MiBMessageOfEightPartsArrivesIntact(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            int[] parts = Enumerable.Repeat(8 << 20, 8).ToArray();
            using Message sent = TestMessages.Numbered(42, 16, parts);
            Task send = client.SendAsync(sent, HangGuard.Token).AsTask();
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            await send;
            TestMessages.AssertNumbered(received, 42, 16, parts);
            Assert.Equal(MessageEncoding.TotalLength(sent), client.Sender.BytesSent);
        }
    }

    [Fact]
    public async Task AMessageWithMorePartsThanIovMaxArrivesIntact()
    {
        using var listener = new TestListener(SocketKind.Unix, new MessageLimits { MaxParts = 3000 });
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            int[] parts = Enumerable.Range(0, 2500).Select(i => 1 + i % 5).ToArray();
            using Message sent = TestMessages.Numbered(3, 1, parts);
            Task send = client.SendAsync(sent, HangGuard.Token).AsTask();
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            await send;
            TestMessages.AssertNumbered(received, 3, 1, parts);
        }
    }
}
