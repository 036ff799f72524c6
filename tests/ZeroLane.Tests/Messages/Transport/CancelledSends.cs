using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class CancelledSends(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task ASendCancelledMidwayFaultsTheWriterAndTheNextSendThrows(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message large = TestMessages.Numbered(1, 0, 64 << 20);
            using var cancel = new CancellationTokenSource();
            ValueTask send = client.SendAsync(large, cancel.Token);
            Assert.False(send.IsCompleted, "64 MiB cannot fit in the socket buffers of a peer that does not read");
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await send);

            Assert.True(client.Sender.IsFaulted);
            using Message next = TestMessages.Numbered(2);
            var faulted = await Assert.ThrowsAsync<MessageConnectionFaultedException>(async () => await client.SendAsync(next, HangGuard.Token));
            Assert.IsAssignableFrom<OperationCanceledException>(faulted.InnerException);

            client.Dispose();
            await Assert.ThrowsAsync<MessageStreamTruncatedException>(async () => await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token));
        }
    }

    [Fact]
    public async Task ASendWhoseTokenIsAlreadyCancelledWritesNothingAndTheWriterStaysUsable()
    {
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message message = TestMessages.Numbered(1, 4, 10);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.SendAsync(message, new CancellationToken(true)));
            Assert.False(client.Sender.IsFaulted);
            await client.SendAsync(message, HangGuard.Token);
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            TestMessages.AssertNumbered(received, 1, 4, 10);
        }
    }

    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task AfterSendsCancelledAtRandomPointsThePeerGetsEveryCompletedMessageOnceAndInOrder(SocketKind kind)
    {
        const int count = 1000;
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (server)
        {
            // A slow reader, so that sends wait for room and cancellations land inside frames.
            Task<(List<ulong> Sequences, Exception? End)> reader = Task.Run(async () =>
            {
                var sequences = new List<ulong>();
                try
                {
                    while ((await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Message is Message message)
                    {
                        using (message)
                        {
                            ulong sequence = TestMessages.SequenceOf(message);
                            TestMessages.AssertNumbered(message, sequence, 0, (int)(sequence * 7919 % 300_000));
                            sequences.Add(sequence);
                        }
                        if (sequences.Count % 10 == 0)
                        {
                            await Task.Delay(1);
                        }
                    }
                    return (sequences, (Exception?)null);
                }
                catch (MessageStreamTruncatedException truncated)
                {
                    return (sequences, truncated);
                }
            });

            Random random = TestSeed.For(output).NewRandom();
            int completed = 0;
            bool faulted = false;
            using (client)
            {
                for (int i = 0; i < count && !faulted; i++)
                {
                    using Message message = TestMessages.Numbered((ulong)i, 0, (int)((ulong)i * 7919 % 300_000));
                    while (true)
                    {
                        using var cancel = new CancellationTokenSource();
                        int delay = random.Next(0, 40);
                        if (delay == 0)
                        {
                            cancel.Cancel();
                        }
                        else if (delay < 5)
                        {
                            cancel.CancelAfter(delay);
                        }
                        try
                        {
                            await client.SendAsync(message, cancel.Token);
                            completed++;
                            break;
                        }
                        catch (OperationCanceledException)
                        {
                            if (client.Sender.IsFaulted)
                            {
                                faulted = true;
                                break;
                            }
                        }
                    }
                }
                if (faulted)
                {
                    using Message after = TestMessages.Numbered(ulong.MaxValue);
                    await Assert.ThrowsAsync<MessageConnectionFaultedException>(async () => await client.SendAsync(after, HangGuard.Token));
                }
            }

            var (sequences, end) = await reader;
            Assert.Equal(Enumerable.Range(0, sequences.Count).Select(i => (ulong)i), sequences);
            Assert.InRange(sequences.Count, completed, completed + 1);
            if (!faulted)
            {
                Assert.Null(end);
                Assert.Equal(count, sequences.Count);
            }
        }
    }
}
