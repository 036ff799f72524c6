using System.Runtime.InteropServices;
using NATS.Client.Core;
using ZeroLane.Messages;
using ZeroLane.Nats;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// The gateway's own connection and NATS.Net put the same messages on the wire (PROTOCOL.md 16.2 and 16.7): the same
/// sample sent both ways reaches a plain NATS.Net subscriber with the same headers and the same payload, message by
/// message: a plain sample, an encoded message (body and parts, their lengths in Zl-Parts) and a sample of 3 MiB split
/// into chunks under the default 1 MiB max_payload. So gateways of either kind read each other.
/// </summary>
public sealed class NatsDirectWireTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task TheSameSampleSentOnTheDirectConnectionAndThroughNatsNetArrivesWithTheSameHeadersAndBytes()
    {
        Prerequisites.NatsServer.Require();
        using NatsServerProcess server = NatsServerProcess.Start();
        using var guard = new CancellationTokenSource(s_hangGuard);
        string subject = "zerolane.zltest-wire-" + Guid.NewGuid().ToString("N")[..8];
        await using var watcher = new NatsConnection(NatsOpts.Default with { Url = server.Url, Name = "zltest-watcher" });
        await using INatsSub<byte[]> watched = await watcher.SubscribeCoreAsync<byte[]>(subject, cancellationToken: guard.Token);
        await watcher.PingAsync(guard.Token);

        await using var natsNet = new NatsConnection(NatsOpts.Default with { Url = server.Url, Name = "zltest-natsnet-sender" });
        await natsNet.ConnectAsync();
        using var direct = new NatsDirectConnection(new NatsEndpoint { Urls = [server.Url], Name = "zltest-direct-sender" });
        direct.Connect(guard.Token);
        var viaNatsNet = new NatsSampleSender(natsNet, subject, senderId: 0xabc);
        var viaDirect = new NatsSampleSender(natsNet, subject, senderId: 0xabc, jetStream: null, direct);

        byte[] plain = new byte[100];
        Random.Shared.NextBytes(plain);
        byte[] encoded = Encode(Message.Create("body"u8.ToArray(), new byte[] { 1, 2, 3 }, ReadOnlyMemory<byte>.Empty, new byte[] { 9, 8 }));
        byte[] large = new byte[3 << 20];
        Random.Shared.NextBytes(large);

        ulong sequence = 0;
        foreach (byte[] sample in new[] { plain, encoded, large })
        {
            sequence++;
            int before = viaNatsNet.MessagesSent > 0 ? (int)viaNatsNet.MessagesSent : 0;
            await SendFromNativeMemory(viaNatsNet, sample, sequence);
            int messages = (int)viaNatsNet.MessagesSent - before;
            // The server has what NATS.Net sent before anything goes the other way, so the watcher gets them in that order.
            await natsNet.PingAsync(guard.Token);
            await SendFromNativeMemory(viaDirect, sample, sequence);
            Assert.True(direct.Flush(s_hangGuard));

            var first = new List<NatsMsg<byte[]>>();
            var second = new List<NatsMsg<byte[]>>();
            for (int i = 0; i < 2 * messages; i++)
            {
                NatsMsg<byte[]> message = await watched.Msgs.ReadAsync(guard.Token);
                (i < messages ? first : second).Add(message);
            }
            Assert.True(messages == 1 || sample == large, $"{messages} messages for a sample of {sample.Length} B");
            Assert.True(sample != large || messages > 1, "the 3 MiB sample was not chunked");
            for (int i = 0; i < messages; i++)
            {
                Assert.Equal(HeaderLines(first[i]), HeaderLines(second[i]));
                Assert.Equal(first[i].Data ?? [], second[i].Data ?? []);
            }
            Assert.Equal(1, HeaderLines(second[0]).Count(line => line.StartsWith("Zl-Seq=", StringComparison.Ordinal)));
            Assert.Equal(sample == encoded, second[0].Headers!.ContainsKey("Zl-Parts"));
            Assert.Equal(sample == large, second[0].Headers!.ContainsKey("Zl-Chunk"));
        }
        Assert.Equal(viaDirect.MessagesSent, viaDirect.MessagesSentDirect);
        Assert.Equal(0, viaNatsNet.MessagesSentDirect);
    }

    private static string[] HeaderLines(NatsMsg<byte[]> message) =>
        message.Headers!.SelectMany(pair => pair.Value.Select(value => $"{pair.Key}={value}")).Order(StringComparer.Ordinal).ToArray();

    private static byte[] Encode(Message message)
    {
        byte[] encoded = new byte[MessageEncoding.TotalLength(message)];
        FrameMessages.Encode(message, encoded);
        return encoded;
    }

    /// <summary>Sends <paramref name="sample"/> from native memory (which does not move, like shared memory) on a thread of its own.</summary>
    private static Task SendFromNativeMemory(NatsSampleSender sender, byte[] sample, ulong sequence) =>
        Task.Factory.StartNew(() =>
        {
            unsafe
            {
                void* memory = NativeMemory.Alloc((nuint)sample.Length);
                try
                {
                    var span = new Span<byte>(memory, sample.Length);
                    sample.CopyTo(span);
                    sender.Send(span, publisher: 0x77, sequence, timestampNanoseconds: 1_700_000_000_000_000_000, CancellationToken.None);
                }
                finally
                {
                    NativeMemory.Free(memory);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
