using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class SendingADisposedMessage
{
    [Fact]
    public async Task FailsWithoutWritingAnythingAndLeavesTheWriterUsable()
    {
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            Message disposed = TestMessages.Numbered(1, 0, 10);
            disposed.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.SendAsync(disposed, HangGuard.Token));
            Message[] batch = [TestMessages.Numbered(2), disposed];
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.Sender.SendAsync(batch, HangGuard.Token));
            Assert.False(client.Sender.IsFaulted);

            using Message fine = TestMessages.Numbered(3, 1, 2);
            await client.SendAsync(fine, HangGuard.Token);
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            TestMessages.AssertNumbered(received, 3, 1, 2);
            batch[0].Dispose();
        }
    }
}
