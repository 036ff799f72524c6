using System.Buffers.Binary;
using System.Net.Sockets;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

[Collection(NonParallelCollection.Name)]
public sealed class LyingFrames
{
    [Theory]
    [InlineData(1L << 40)]
    [InlineData(ulong.MaxValue)]
    [InlineData((256L << 20) + 1)]
    public async Task ALengthPrefixAboveTheMaximumIsRejectedWithoutAllocatingTheFrame(ulong announced)
    {
        using var listener = new TestListener(SocketKind.Unix);
        ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
        using Socket raw = listener.ConnectRaw();
        using MessageConnection server = await accept;
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(prefix, announced);
        raw.Send(prefix);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var exception = await Assert.ThrowsAsync<MessageFormatException>(async () => await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Contains("maximum", exception.Message);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes were allocated while rejecting a frame of {announced} bytes");
        await Assert.ThrowsAsync<MessageConnectionFaultedException>(async () => await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token));
    }

    [Fact]
    public async Task AConfiguredMaximumIsEnforced()
    {
        var limits = new MessageLimits { MaxMessageLength = 1000 };
        using var listener = new TestListener(SocketKind.Tcp, limits);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message fits = TestMessages.Numbered(1, 0, 900);
            using Message tooLarge = TestMessages.Numbered(2, 0, 1000);
            await client.SendAsync(fits, HangGuard.Token);
            await client.SendAsync(tooLarge, HangGuard.Token);
            using (Message received = await server.ReceiveAsync(HangGuard.Token))
            {
                TestMessages.AssertNumbered(received, 1, 0, 900);
            }
            await Assert.ThrowsAsync<MessageFormatException>(async () => await server.ReceiveAsync(HangGuard.Token));
        }
    }

    [Fact]
    public async Task PartLengthsThatDoNotAddUpAreRejected()
    {
        using var listener = new TestListener(SocketKind.Unix);
        ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
        using Socket raw = listener.ConnectRaw();
        using MessageConnection server = await accept;
        using Message message = TestMessages.Numbered(1, 0, 10, 10);
        byte[] frame = TestMessages.FrameBytes(message);
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(24), 11);
        raw.Send(frame);
        await Assert.ThrowsAsync<MessageFormatException>(async () => await server.ReceiveAsync(HangGuard.Token));
    }
}
