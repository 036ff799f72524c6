using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class SendTimeouts
{
    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task ASendThatCannotFinishInTimeThrowsTimeoutAndFaultsTheWriter(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            // The peer never reads, so 64 MiB can never fit: the timeout is certain to expire first.
            using Message large = TestMessages.Numbered(1, 0, 64 << 20);
            await Assert.ThrowsAsync<TimeoutException>(async () => await client.SendAsync(large, TimeSpan.FromMilliseconds(20)));
            Assert.True(client.Sender.IsFaulted);
            await Assert.ThrowsAsync<MessageConnectionFaultedException>(async () => await client.SendAsync(large, HangGuard.Token));
        }
    }
}
