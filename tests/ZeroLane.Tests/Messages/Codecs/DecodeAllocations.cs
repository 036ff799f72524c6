using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>
/// Reading a value out of a received message allocates nothing for the codecs whose result borrows the
/// message's memory (raw bytes, unmanaged structs, IMultipartMessage types).
/// </summary>
public sealed class DecodeAllocations
{
    private const int Reads = 1000;

    private static long Allocated(Action read)
    {
        read();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Reads; i++)
        {
            read();
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void ReadingACameraFrameAllocatesNothing()
    {
        var frame = new CameraFrame(1, 2, 3, 4, 5, PixelFormat.Mono8, new byte[20], new byte[40]);
        using Message incoming = SimulatedWire.SendAndReceive(MultipartCodec<CameraFrame>.Instance.ToMessage(frame));
        long checksum = 0;

        long allocated = Allocated(() => checksum += MultipartCodec<CameraFrame>.Instance.Decode(incoming).Pixels.Length);

        Assert.Equal(0, allocated);
        Assert.Equal(20L * (Reads + 1), checksum);
    }

    [Fact]
    public void ReadingRawBytesAllocatesNothing()
    {
        using Message incoming = SimulatedWire.SendAndReceive(BytesCodec.Instance.ToMessage(new byte[100]));
        long checksum = 0;

        long allocated = Allocated(() => checksum += BytesCodec.Instance.Decode(incoming).Length);

        Assert.Equal(0, allocated);
        Assert.Equal(100L * (Reads + 1), checksum);
    }

    [Fact]
    public void ReadingAnUnmanagedStructAllocatesNothing()
    {
        using Message incoming = SimulatedWire.SendAndReceive(UnmanagedCodec<Guid>.Instance.ToMessage(Guid.NewGuid()));
        int nonEmpty = 0;

        long allocated = Allocated(() => nonEmpty += UnmanagedCodec<Guid>.Instance.Decode(incoming) == Guid.Empty ? 0 : 1);

        Assert.Equal(0, allocated);
        Assert.Equal(Reads + 1, nonEmpty);
    }
}
