using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>An unmanaged struct travels as exactly its own bytes and is refused when the body has another size.</summary>
public sealed class UnmanagedStructRoundTrips
{
    /// <summary>A sensor sample with fields of several sizes (and so some padding).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SensorSample
    {
        public byte Channel;
        public long TimestampNanoseconds;
        public double Value;
        public short Status;
        public Guid Source;
    }

    [Fact]
    public void AStructComesBackFieldForField()
    {
        var sample = new SensorSample { Channel = 3, TimestampNanoseconds = -42, Value = Math.PI, Status = short.MinValue, Source = Guid.NewGuid() };

        using Message outgoing = UnmanagedCodec<SensorSample>.Instance.ToMessage(sample);
        using Message incoming = SimulatedWire.Transmit(outgoing);
        SensorSample received = UnmanagedCodec<SensorSample>.Instance.Decode(incoming);

        Assert.Equal(sample, received);
    }

    [Fact]
    public void TheBodyIsTheStructsOwnBytes()
    {
        var sample = new SensorSample { Channel = 1, Value = 2.5 };

        using Message message = UnmanagedCodec<SensorSample>.Instance.ToMessage(sample);

        Assert.Equal(Unsafe.SizeOf<SensorSample>(), message.Body.Length);
        Assert.Equal(0, message.PartCount);
        Assert.True(message.Body.Span.SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<SensorSample>(in sample))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    public void ABodyOfAnotherSizeIsRefusedWithAMessageNamingBothSizes(int bodyLength)
    {
        using Message message = Message.Create(new byte[bodyLength]);

        var error = Assert.Throws<MessageCodecException>(() => UnmanagedCodec<SensorSample>.Instance.Decode(message));

        Assert.Contains($"takes {Unsafe.SizeOf<SensorSample>()} bytes", error.Message);
        Assert.Contains($"has {bodyLength}", error.Message);
    }

    [Fact]
    public void AMessageWithPartsIsRefused()
    {
        using Message message = Message.Create(new byte[Unsafe.SizeOf<long>()], new byte[1]);

        Assert.Throws<MessageCodecException>(() => UnmanagedCodec<long>.Instance.Decode(message));
    }

    [Fact]
    public void TheBodyIsReadFromAnUnalignedOffsetOfTheReceiveBuffer()
    {
        // A frame's body starts 16 + 8N bytes in; a one-byte prefix in front of it shifts every field off alignment.
        var bytes = new byte[1 + sizeof(long)];
        MemoryMarshal.Write(bytes.AsSpan(1), 0x0102030405060708L);
        using Message message = Message.Create(bytes.AsMemory(1));

        Assert.Equal(0x0102030405060708L, UnmanagedCodec<long>.Instance.Decode(message));
    }
}
