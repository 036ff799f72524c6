using System.Net.Sockets;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class CancelledReceives(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task ReceivesCancelledAtRandomPointsOfALongStreamLoseAndDuplicateNothing(SocketKind kind)
    {
        const int count = 1000;
        using var listener = new TestListener(kind);
        ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
        using Socket raw = listener.ConnectRaw();
        using MessageConnection server = await accept;

        TestSeed seed = TestSeed.For(output);
        Random random = seed.NewRandom(stream: 0);
        int[][] shapes = Enumerable.Range(0, count).Select(i => i % 4 == 0 ? Array.Empty<int>() : new[] { random.Next(0, 3000), random.Next(0, 50) }).ToArray();
        int[] bodies = Enumerable.Range(0, count).Select(_ => random.Next(0, 100)).ToArray();

        // The peer dribbles the frames out in random chunks with pauses, so cancellations land inside
        // prefixes, headers and parts as well as between frames.
        Task writer = Task.Run(async () =>
        {
            Random chunks = seed.NewRandom(stream: 1);
            for (int i = 0; i < count; i++)
            {
                using Message message = TestMessages.Numbered((ulong)i, bodies[i], shapes[i]);
                byte[] frame = TestMessages.FrameBytes(message);
                for (int offset = 0; offset < frame.Length;)
                {
                    int chunk = Math.Min(chunks.Next(1, 700), frame.Length - offset);
                    await raw.SendAsync(frame.AsMemory(offset, chunk), SocketFlags.None);
                    offset += chunk;
                    if (chunks.Next(6) == 0)
                    {
                        await Task.Delay(1);
                    }
                }
            }
            raw.Shutdown(SocketShutdown.Send);
        });

        int cancellations = 0;
        Random timeouts = seed.NewRandom(stream: 2);
        CancellationToken hang = HangGuard.Token;
        for (int expected = 0; expected < count;)
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(hang);
            int delay = timeouts.Next(0, 4);
            if (delay == 0)
            {
                cancel.Cancel();
            }
            else
            {
                cancel.CancelAfter(delay);
            }
            Message? received;
            try
            {
                received = (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, cancel.Token)).Message;
            }
            catch (OperationCanceledException) when (!hang.IsCancellationRequested)
            {
                cancellations++;
                continue;
            }
            Assert.NotNull(received);
            using (received)
            {
                TestMessages.AssertNumbered(received, (ulong)expected, bodies[expected], shapes[expected]);
            }
            expected++;
        }
        Assert.Equal(ReceiveStatus.EndOfStream, (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, hang)).Status);
        await writer;
        Assert.True(cancellations > 0);
        Assert.Equal(count, server.Receiver.MessagesReceived);
    }

    [Fact]
    public async Task AReceiveThatTimesOutCanBeRetriedAndGetsTheMessage()
    {
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            ReceiveResult timedOut = await server.TryReceiveAsync(TimeSpan.FromMilliseconds(20));
            Assert.Equal(ReceiveStatus.TimedOut, timedOut.Status);
            Assert.Null(timedOut.Message);
            await Assert.ThrowsAsync<TimeoutException>(async () => await server.ReceiveAsync(TimeSpan.FromMilliseconds(20)));
            using Message sent = TestMessages.Numbered(5, 2, 3);
            await client.SendAsync(sent, HangGuard.Token);
            using Message received = await server.ReceiveAsync(TimeSpan.FromSeconds(30));
            TestMessages.AssertNumbered(received, 5, 2, 3);
        }
    }
}
