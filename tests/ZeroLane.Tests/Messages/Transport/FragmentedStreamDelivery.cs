using System.Net.Sockets;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class FragmentedStreamDelivery(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SocketKind.Tcp, 1)]
    [InlineData(SocketKind.Unix, 1)]
    [InlineData(SocketKind.Tcp, 7)]
    [InlineData(SocketKind.Unix, 300)]
    [InlineData(SocketKind.Tcp, 9000)]
    public async Task TheReaderReturnsExactlyTheMessagesWhateverTheChunksTheBytesArriveIn(SocketKind kind, int maxChunk)
    {
        using var listener = new TestListener(kind);
        ValueTask<MessageConnection> accept = listener.Listener.AcceptAsync(HangGuard.Token);
        using Socket raw = listener.ConnectRaw();
        using MessageConnection server = await accept;

        // With larger chunks, frames bigger than the reader's 64 KiB staging buffer and ones just around it too.
        int[][] shapes = maxChunk < 300
            ? [[], [0], [3, 0, 40], [1000], [2, 2]]
            : [[], [0], [3, 0, 40], [1000], [2, 2], [65536 - 40], [65536], [200_000, 1], [7]];
        byte[] stream = shapes.SelectMany((parts, i) =>
        {
            using Message message = TestMessages.Numbered((ulong)i, i * 3, parts);
            return TestMessages.FrameBytes(message);
        }).ToArray();

        Random random = TestSeed.For(output).NewRandom(stream: maxChunk);
        Task writer = Task.Run(async () =>
        {
            for (int offset = 0; offset < stream.Length;)
            {
                int chunk = Math.Min(random.Next(1, maxChunk + 1), stream.Length - offset);
                raw.Send(stream, offset, chunk, SocketFlags.None);
                offset += chunk;
                if (random.Next(8) == 0)
                {
                    await Task.Delay(random.Next(0, 2));
                }
            }
            raw.Shutdown(SocketShutdown.Send);
        });

        for (int i = 0; i < shapes.Length; i++)
        {
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            TestMessages.AssertNumbered(received, (ulong)i, i * 3, shapes[i]);
        }
        Assert.Equal(ReceiveStatus.EndOfStream, (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Status);
        await writer;
    }
}
