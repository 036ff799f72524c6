using System.Net.Sockets;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class TruncatedStreams
{
    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task APeerThatClosesInsideAFrameGivesTheTruncationExceptionAtEveryOffset(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        using Message message = TestMessages.Numbered(9, 5, 4, 0, 6);
        byte[] frame = TestMessages.FrameBytes(message);

        for (int k = 0; k < frame.Length; k++)
        {
            ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
            using (Socket raw = listener.ConnectRaw())
            using (MessageConnection server = await accept)
            {
                raw.Send(frame, 0, k, SocketFlags.None);
                raw.Shutdown(SocketShutdown.Send);
                if (k == 0)
                {
                    Assert.Equal(ReceiveStatus.EndOfStream, (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Status);
                    await Assert.ThrowsAsync<MessageConnectionClosedException>(async () => await server.ReceiveAsync(HangGuard.Token));
                    continue;
                }
                var truncated = await Assert.ThrowsAsync<MessageStreamTruncatedException>(async () => await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token));
                Assert.Equal(k, truncated.BytesReceived);
                Assert.Equal(k < MessageEncoding.PrefixSize ? null : frame.Length, truncated.FrameLength);
                var faulted = await Assert.ThrowsAsync<MessageConnectionFaultedException>(async () => await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token));
                Assert.IsType<MessageStreamTruncatedException>(faulted.InnerException);
            }
        }
    }

    [Fact]
    public async Task TheWholeFrameFollowedByAnOrderlyCloseIsAMessageThenTheEndOfTheStream()
    {
        using var listener = new TestListener(SocketKind.Unix);
        using Message message = TestMessages.Numbered(9, 5, 4, 0, 6);
        ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
        using Socket raw = listener.ConnectRaw();
        using MessageConnection server = await accept;
        raw.Send(TestMessages.FrameBytes(message));
        raw.Shutdown(SocketShutdown.Send);
        using (Message received = await server.ReceiveAsync(HangGuard.Token))
        {
            TestMessages.AssertNumbered(received, 9, 5, 4, 0, 6);
        }
        Assert.Equal(ReceiveStatus.EndOfStream, (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Status);
        Assert.True(server.Receiver.IsEndOfStream);
    }
}
