using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

/// <summary>
/// A ring bridge's sender returns only when the receiving end confirmed every frame: a receiver that fails, refuses or
/// closes without confirming makes the sender throw <see cref="BridgeDeliveryException"/> with the count of frames lost,
/// and a sender that makes its own buffer makes it only once the receiving end is ready.
/// </summary>
public sealed class RingBridgeReportsWhatWasNotDelivered : BufferTest
{
    [Fact]
    public async Task AReceiverWhoseReaderLeavesTellsTheSenderWhyAndHowManyFramesWereLost()
    {
        string near = NewName("bridge-lost");
        string far = NewName("bridge-lost-far");
        using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = 64 * 1024 });
        var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        try
        {
            using var listener = new TestListener(SocketKind.Tcp);
            var (client, server) = await listener.PairAsync();
            using var farWriter = new RingWriter(far);
            Task<RingBridgeResult> sending = RingBridge.SendAsync(nearReader, client, HangGuard.Token);
            Task<RingBridgeResult> receiving = RingBridge.ReceiveAsync(server, farWriter, HangGuard.Token);
            using var nearWriter = new RingWriter(near);
            for (int i = 1; i <= 5; i++)
            {
                nearWriter.Write(Patterns.Create(100, (ulong)i), Safety.Timeout);
            }
            for (int i = 1; i <= 5; i++)
            {
                using Frame frame = farReader.Read(Safety.Timeout);
                Patterns.AssertMatches(frame.Span, 100, (ulong)i);
            }

            // The far reader leaves: frame 6 is taken from the near ring but cannot be written into the far one.
            farReader.Dispose();
            nearWriter.Write(Patterns.Create(100, 6), Safety.Timeout);

            BridgeDeliveryException failure = await Assert.ThrowsAsync<BridgeDeliveryException>(() => sending.WaitAsync(Safety.Timeout));
            Assert.Equal(6, failure.FramesForwarded);
            Assert.Equal(5, failure.FramesDelivered);
            Assert.Equal(1, failure.FramesNotDelivered);
            Assert.StartsWith("The receiving end failed: ", failure.Message);
            Assert.Contains($"1 of the 6 frames taken from buffer '{near}' were not delivered (5 were).", failure.Message);
            await Assert.ThrowsAsync<ReaderGoneException>(() => receiving.WaitAsync(Safety.Timeout));
        }
        finally
        {
            farReader.Dispose();
        }
    }

    [Fact]
    public async Task ARefusingReceiverLeavesTheSendersBufferUncreated()
    {
        string near = NewName("bridge-refused");
        using var listener = new TestListener(SocketKind.Tcp);
        var (client, server) = await listener.PairAsync();

        Task<RingBridgeResult> sending = RingBridge.SendAsync(client, near, new ReaderOptions { PayloadSize = 64 * 1024 }, HangGuard.Token);
        await RingBridge.RefuseAsync(server, "no room on this host");

        BridgeDeliveryException failure = await Assert.ThrowsAsync<BridgeDeliveryException>(() => sending.WaitAsync(Safety.Timeout));
        Assert.Equal($"The receiving end failed: no room on this host. Buffer '{near}' was not created, so nothing could be written to it.", failure.Message);
        Assert.Equal(0, failure.FramesForwarded);
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task TheSendersBufferAppearsOnlyOnceTheReceivingEndIsReady()
    {
        string near = NewName("bridge-ready");
        string far = NewName("bridge-ready-far");
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();

        Task<RingBridgeResult> sending = RingBridge.SendAsync(client, near, new ReaderOptions { PayloadSize = 64 * 1024 }, HangGuard.Token);
        // The receiving end has said nothing yet: no writer can connect to the near buffer, so nothing can be written to be lost.
        Assert.Equal(ConnectStatus.TimedOut, RingWriter.TryConnect(near, out _, TimeSpan.Zero));
        Assert.False(sending.IsCompleted);

        using var farWriter = new RingWriter(far);
        Task<RingBridgeResult> receiving = RingBridge.ReceiveAsync(server, farWriter, HangGuard.Token);
        using (RingWriter nearWriter = await RingWriter.ConnectAsync(near, Safety.Timeout))
        {
            nearWriter.Write(Patterns.Create(300, 1), Safety.Timeout);
        }
        using (Frame frame = farReader.Read(Safety.Timeout))
        {
            Patterns.AssertMatches(frame.Span, 300, 1);
        }

        Assert.Equal(new RingBridgeResult(1, 300), await sending.WaitAsync(Safety.Timeout));
        Assert.Equal(new RingBridgeResult(1, 300), await receiving.WaitAsync(Safety.Timeout));
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task AReceiverThatClosesWithoutConfirmingIsAFailureNotASuccess()
    {
        string near = NewName("bridge-noack");
        using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = 64 * 1024 });
        using var listener = new TestListener(SocketKind.Tcp);
        var (client, server) = await listener.PairAsync();
        Task<RingBridgeResult> sending = RingBridge.SendAsync(nearReader, client, HangGuard.Token);

        // A receiver that says it is ready, takes the stream to its end and closes without the "delivered" reply.
        using (Message ready = Message.Create("REDY"u8.ToArray()))
        {
            await server.SendAsync(ready, HangGuard.Token);
        }
        using (var nearWriter = new RingWriter(near))
        {
            nearWriter.Write(Patterns.Create(64, 1), Safety.Timeout);
            nearWriter.Write(Patterns.Create(64, 2), Safety.Timeout);
        }
        int received = 0;
        while ((await server.TryReceiveAsync(Safety.Timeout, HangGuard.Token)).Message is Message message)
        {
            using (message)
            {
                received++;
                if (message.PartCount == 0)
                {
                    break;
                }
            }
        }
        Assert.Equal(3, received);
        server.Dispose();

        BridgeDeliveryException failure = await Assert.ThrowsAsync<BridgeDeliveryException>(() => sending.WaitAsync(Safety.Timeout));
        Assert.Equal(2, failure.FramesForwarded);
        Assert.Equal(0, failure.FramesDelivered);
        Assert.Contains($"None of the 2 frames taken from buffer '{near}' was confirmed delivered.", failure.Message);
    }
}
