using System.Runtime.InteropServices;
using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class SendingFromNativeMemoryAndRingFrames : BufferTest
{
    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task APartInNativeMemoryIsSentInPlace(SocketKind kind)
    {
        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            const int length = 3 << 20;
            nint address = 0;
            unsafe
            {
                address = (nint)NativeMemory.Alloc(length);
                Patterns.Fill(new Span<byte>((void*)address, length), 5);
            }
            var free = new NativeFree(address);
            using Message sent = Message.CreateBuilder().WithBody(new byte[] { 1, 2, 3 }).AddNativePart(address, length, free).Build();
            Task send = client.SendAsync(sent, HangGuard.Token).AsTask();
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            await send;
            Assert.Equal(new byte[] { 1, 2, 3 }, received.Body.ToArray());
            Patterns.AssertMatches(received.GetPart(0).Span, length, 5);
            sent.Dispose();
            Assert.True(free.Freed);
        }
    }

    [Theory]
    [InlineData(SocketKind.Tcp)]
    [InlineData(SocketKind.Unix)]
    public async Task RingFramesAreSentAsPartsAndReleasedWithTheMessage(SocketKind kind)
    {
        string name = NewName("msgsock");
        using var ring = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1 << 20 });
        using var ringWriter = new RingWriter(name);
        ringWriter.Write(Patterns.Create(1000, 11), HangGuard.Token);
        ringWriter.Write(Patterns.Create(50000, 12), HangGuard.Token);

        using var listener = new TestListener(kind);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        {
            Frame first = ring.Read(HangGuard.Token);
            Frame second = ring.Read(HangGuard.Token);
            using Message sent = Message.CreateBuilder().WithBody(new byte[8]).AddPart(first).AddPart(second).Build();
            await client.SendAsync(sent, HangGuard.Token);
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            Patterns.AssertMatches(received.GetPart(0).Span, 1000, 11);
            Patterns.AssertMatches(received.GetPart(1).Span, 50000, 12);
            Assert.Equal(2, ring.FramesHeld);
            sent.Dispose();
            Assert.Equal(0, ring.FramesHeld);
        }
    }

    private sealed class NativeFree(nint address) : IDisposable
    {
        internal bool Freed { get; private set; }

        public unsafe void Dispose()
        {
            if (!Freed)
            {
                NativeMemory.Free((void*)address);
                Freed = true;
            }
        }
    }
}
