using System.Runtime.CompilerServices;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

[Collection(NonParallelCollection.Name)]
public sealed class SendAllocations
{
    private const int PerRound = 50;
    private const int Rounds = 40;
    private const int WarmUpRounds = 10;

    [Theory]
    [InlineData(SocketKind.Tcp, false)]
    [InlineData(SocketKind.Unix, false)]
    [InlineData(SocketKind.Tcp, true)]
    [InlineData(SocketKind.Unix, true)]
    public async Task SendingInSteadyStateAllocatesNothing(SocketKind kind, bool batched)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            using Message small = TestMessages.Numbered(1, 56);
            using Message withParts = TestMessages.Numbered(2, 8, 100, 0, 300);
            Message[] batch = Enumerable.Range(0, PerRound).Select(i => i % 2 == 0 ? small : withParts).ToArray();
            var received = new StrongBox<long>();
            Task drain = Task.Run(async () =>
            {
                while ((await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Message is Message message)
                {
                    message.Dispose();
                    Interlocked.Increment(ref received.Value);
                }
            });

            (long allocated, int pending) = SendRounds(client.Sender, batch, batched, received);

            Assert.Equal(0, pending);
            Assert.Equal(0, allocated);
            client.Dispose();
            await drain;
        }
    }

    /// <summary>Synchronous, so every send runs on this thread and the per-thread allocation counter sees all of it.</summary>
    private static (long Allocated, int Pending) SendRounds(MessageSender writer, Message[] batch, bool batched, StrongBox<long> received)
    {
        long allocated = 0;
        int pending = 0;
        for (int round = 0; round < Rounds; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            if (batched)
            {
                pending += Complete(writer.SendAsync(batch.AsSpan()));
            }
            else
            {
                for (int i = 0; i < batch.Length; i++)
                {
                    pending += Complete(writer.SendAsync(batch[i]));
                }
            }
            long after = GC.GetAllocatedBytesForCurrentThread();
            if (round >= WarmUpRounds)
            {
                allocated += after - before;
            }
            // Let the reader empty the socket so every send of the next round fits at once.
            long target = (round + 1L) * PerRound;
            Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref received.Value) >= target, Safety.Timeout), "the reader stopped receiving");
        }
        return (allocated, pending);
    }

    private static int Complete(ValueTask send)
    {
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            return 0;
        }
        send.AsTask().GetAwaiter().GetResult();
        return 1;
    }
}
