using ZeroLane.Buffers;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

/// <summary>The library's ring bridge carries metadata and every frame, in order, from one buffer to another over a connection.</summary>
public sealed class RingBridgeCarriesARing : BufferTest
{
    [Theory]
    [InlineData(SocketKind.Unix)]
    [InlineData(SocketKind.Tcp)]
    public async Task MetadataAndEveryFrameArriveInOrderAndTheSenderReturnsOnceAllIsDelivered(SocketKind kind)
    {
        string near = NewName("bridge-near");
        string far = NewName("bridge-far");
        using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = 64 * 1024 });
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 16 * 1024 });
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using var farWriter = new RingWriter(far);
        Task<RingBridgeResult> sending = RingBridge.SendAsync(nearReader, client, HangGuard.Token);
        Task<RingBridgeResult> receiving = RingBridge.ReceiveAsync(server, farWriter, HangGuard.Token);

        const int Frames = 500;
        Task producing = Safety.OnThread(() =>
        {
            using var nearWriter = new RingWriter(near);
            nearWriter.SetMetadata("camera=front"u8);
            for (int i = 1; i <= Frames; i++)
            {
                nearWriter.Write(Patterns.Create(1 + (i * 37) % 3000, (ulong)i), Safety.Timeout);
            }
        });
        // The far ring is smaller than what crosses it: the far reader's pace holds everything back, nothing is dropped.
        for (int i = 1; i <= Frames; i++)
        {
            using Frame frame = farReader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 1 + (i * 37) % 3000, (ulong)i);
        }
        Safety.Join(producing);

        RingBridgeResult sent = await sending.WaitAsync(Safety.Timeout);
        RingBridgeResult received = await receiving.WaitAsync(Safety.Timeout);
        Assert.Equal(Frames, sent.Frames);
        Assert.Equal(sent, received);
        Assert.Equal("camera=front", System.Text.Encoding.ASCII.GetString(farReader.GetMetadata()));
        Assert.Equal(ReadStatus.WriterDisconnected, farReader.TryRead(out _, Safety.Timeout));
    }
}
