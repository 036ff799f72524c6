using System.Net;
using System.Net.Sockets;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class ConnectionLifecycle
{
    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task APeerThatClosesBetweenMessagesIsTheEndOfTheStream(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (server)
        {
            using (client)
            {
                using Message message = TestMessages.Numbered(1);
                await client.SendAsync(message, HangGuard.Token);
            }
            using (Message received = await server.ReceiveAsync(HangGuard.Token))
            {
                TestMessages.AssertNumbered(received, 1, 0);
            }
            Assert.Equal(ReceiveStatus.EndOfStream, (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Status);
            Assert.Equal(ReceiveStatus.EndOfStream, (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Status);
            await Assert.ThrowsAsync<MessageConnectionClosedException>(async () => await server.ReceiveAsync(HangGuard.Token));
        }
    }

    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task CloseAsyncDeliversEverythingSentAndWaitsForThePeerToClose(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        Task<int> serverSide = Task.Run(async () =>
        {
            int received = 0;
            while ((await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Message is Message message)
            {
                message.Dispose();
                received++;
            }
            using Message goodbye = TestMessages.Numbered(99);
            await server.SendAsync(goodbye, HangGuard.Token);
            await server.CloseAsync(HangGuard.Token);
            return received;
        });
        for (int i = 0; i < 3; i++)
        {
            using Message message = TestMessages.Numbered((ulong)i, 0, 100_000);
            await client.SendAsync(message, HangGuard.Token);
        }
        await client.CloseAsync(HangGuard.Token);
        Assert.Equal(3, await serverSide);
    }

    [Fact]
    public async Task AResetConnectionIsReportedWithTheSocketError()
    {
        using var listener = new TestListener(SocketKind.Tcp);
        ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
        Socket raw = listener.ConnectRaw();
        using MessageConnection server = await accept;
        raw.LingerState = new LingerOption(true, 0);
        raw.Close();

        var broken = await Assert.ThrowsAsync<MessageConnectionException>(async () => await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token));
        Assert.Equal(SocketError.ConnectionReset, broken.SocketError);
        await Assert.ThrowsAsync<MessageConnectionFaultedException>(async () => await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token));
    }

    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task SendingToAPeerThatIsGoneFailsWithTheSocketError(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        {
            server.Dispose();
            using Message message = TestMessages.Numbered(1, 0, 100_000);
            MessageConnectionException? broken = null;
            for (int i = 0; i < 1000 && broken is null; i++)
            {
                try
                {
                    await client.SendAsync(message, HangGuard.Token);
                }
                catch (MessageConnectionException exception)
                {
                    broken = exception;
                }
            }
            Assert.NotNull(broken);
            Assert.Contains(broken.SocketError, new[] { SocketError.Shutdown, SocketError.ConnectionReset, SocketError.ConnectionAborted });
            Assert.True(client.Sender.IsFaulted);
        }
    }

    [Fact]
    public void ATcpListenerBindsToLoopbackUnlessAnAddressIsNamed()
    {
        using MessageListener listener = MessageListener.ListenTcp(0);
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndPoint).Address);
        Assert.NotEqual(0, listener.Port);
        using MessageListener v6 = MessageListener.ListenTcp(0, IPAddress.IPv6Loopback);
        Assert.Equal(IPAddress.IPv6Loopback, ((IPEndPoint)v6.LocalEndPoint).Address);
    }

    [Fact]
    public async Task ConnectingByHostNameReachesALoopbackListener()
    {
        using MessageListener listener = MessageListener.ListenTcp(0);
        ValueTask<MessageConnection> accept = listener.AcceptAsync(HangGuard.Token);
        using MessageConnection client = await MessageConnection.ConnectTcpAsync("localhost", listener.Port, TimeSpan.FromSeconds(30));
        using MessageConnection server = await accept;
        using Message message = TestMessages.Numbered(3, 1);
        await client.SendAsync(message, TimeSpan.FromSeconds(30));
        using Message received = await server.ReceiveAsync(HangGuard.Token);
        TestMessages.AssertNumbered(received, 3, 1);
    }

    [Fact]
    public async Task ConnectingWhereNobodyListensFails()
    {
        using var directory = new Infrastructure.TempDirectory();
        await Assert.ThrowsAsync<SocketException>(async () => await MessageConnection.ConnectUnixAsync(Path.Combine(directory.Path, "nobody.sock"), cancellationToken: HangGuard.Token));
    }
}
