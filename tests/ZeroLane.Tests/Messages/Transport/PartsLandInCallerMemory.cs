using System.Net.Sockets;
using System.Runtime.InteropServices;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

/// <summary>
/// A receive with a part destination puts each part straight into the memory the destination gives (no receive buffer
/// to copy out of), resumes after a timeout in the middle of a part, and refuses what does not fit.
/// </summary>
public sealed class PartsLandInCallerMemory
{
    /// <summary>Hands out consecutive slices of one array and counts what it was asked.</summary>
    private sealed class ArrayDestination(int size) : IPartDestination
    {
        internal byte[] Memory { get; } = new byte[size];

        internal List<(int Index, int Length, string Body)> Requests { get; } = new();

        internal int ShortBy { get; set; }

        private int _next = 16; // not at the start, so an offset check means something

        public ValueTask<Memory<byte>> GetPartMemoryAsync(ReadOnlyMemory<byte> body, int partCount, int partIndex, int partLength, CancellationToken cancellationToken)
        {
            Requests.Add((partIndex, partLength, Convert.ToHexString(body.Span)));
            Memory<byte> slice = Memory.AsMemory(_next, partLength - ShortBy);
            _next += partLength;
            return new ValueTask<Memory<byte>>(slice);
        }
    }

    [Theory]
    [InlineData(SocketKind.Unix)]
    [InlineData(SocketKind.Tcp)]
    public async Task EachPartIsTheDestinationsOwnMemory(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            var destination = new ArrayDestination(1 << 20);
            int[] lengths = [100, 0, 200_000];
            using Message sent = TestMessages.Numbered(7, 5, lengths);
            await client.SendAsync(sent, HangGuard.Token);

            ReceiveResult result = await server.Receiver.TryReceiveAsync(destination, Safety.Timeout, HangGuard.Token);

            Assert.Equal(ReceiveStatus.Success, result.Status);
            using Message received = result.Message!;
            TestMessages.AssertNumbered(received, 7, 5, lengths);
            int expectedOffset = 16;
            for (int i = 0; i < lengths.Length; i++)
            {
                Assert.True(MemoryMarshal.TryGetArray(received.GetPart(i), out ArraySegment<byte> segment));
                Assert.Same(destination.Memory, segment.Array);
                Assert.Equal(expectedOffset, segment.Offset);
                expectedOffset += lengths[i];
            }
            Assert.Equal([0, 1, 2], destination.Requests.Select(r => r.Index));
            Assert.All(destination.Requests, r => Assert.Equal(Convert.ToHexString(sent.Body.Span), r.Body));
        }
    }

    [Fact]
    public async Task AReceiveThatTimesOutInTheMiddleOfAPartResumesIntoTheSameMemory()
    {
        using var listener = new TestListener(SocketKind.Unix);
        ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
        using Socket raw = listener.ConnectRaw();
        using MessageConnection server = await accept;
        using Message sent = TestMessages.Numbered(3, 0, 50_000);
        byte[] bytes = TestMessages.FrameBytes(sent);
        var destination = new ArrayDestination(1 << 17);

        raw.Send(bytes, 0, bytes.Length - 20_000, SocketFlags.None);
        ReceiveResult first = await server.Receiver.TryReceiveAsync(destination, TimeSpan.FromMilliseconds(50), HangGuard.Token);
        Assert.Equal(ReceiveStatus.TimedOut, first.Status);
        Assert.True(server.Receiver.HasPartialMessage);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await server.TryReceiveAsync(Safety.Timeout, HangGuard.Token));

        raw.Send(bytes, bytes.Length - 20_000, 20_000, SocketFlags.None);
        ReceiveResult second = await server.Receiver.TryReceiveAsync(destination, Safety.Timeout, HangGuard.Token);

        Assert.Equal(ReceiveStatus.Success, second.Status);
        using Message received = second.Message!;
        TestMessages.AssertNumbered(received, 3, 0, 50_000);
        Assert.Single(destination.Requests);
    }

    [Fact]
    public async Task ADestinationShorterThanThePartFailsTheReceiveAndTheConnection()
    {
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message sent = TestMessages.Numbered(1, 0, 1000);
            await client.SendAsync(sent, HangGuard.Token);
            var destination = new ArrayDestination(4096) { ShortBy = 1 };

            await Assert.ThrowsAsync<InvalidOperationException>(async () => await server.Receiver.TryReceiveAsync(destination, Safety.Timeout, HangGuard.Token));

            Assert.True(server.Receiver.IsFaulted);
        }
    }

    [Fact]
    public async Task TheLimitsAreCheckedBeforeTheDestinationIsAsked()
    {
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            server.Receiver.Limits = new MessageLimits { MaxMessageLength = 1000 };
            using Message sent = TestMessages.Numbered(1, 0, 5000);
            await client.SendAsync(sent, HangGuard.Token);
            var destination = new ArrayDestination(8192);

            await Assert.ThrowsAsync<MessageFormatException>(async () => await server.Receiver.TryReceiveAsync(destination, Safety.Timeout, HangGuard.Token));

            Assert.Empty(destination.Requests);
        }
    }
}
