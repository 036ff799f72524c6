using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// A segment that another process truncates while both ends have it mapped (possible with permissive modes, or by
/// the owner's own tools) gives both ends BufferCorruptedException saying so, instead of killing them with SIGBUS.
/// </summary>
public sealed class TruncatedSegments : RingPairTest
{
    public TruncatedSegments() : base(new ReaderOptions { PayloadSize = 256 << 10 })
    {
    }

    [Fact]
    public void BothEndsGetAClearErrorInsteadOfDying()
    {
        Prerequisites.FaultGuard.Require();
        Writer.Write(new byte[100]);
        using (Frame frame = Reader.Read(Safety.Timeout))
        {
            Assert.Equal(100, frame.Length);
        }

        ExternalCommand.Truncate("/dev/shm/" + Reader.Name, 0);

        var writerError = Assert.Throws<BufferCorruptedException>(() => Writer.TryWrite(new byte[100], TimeSpan.Zero));
        Assert.Contains("lost its shared memory", writerError.Message);
        var readerError = Assert.Throws<BufferCorruptedException>(() => Reader.TryRead(out _, TimeSpan.Zero));
        Assert.Contains("truncated /dev/shm/" + Reader.Name, readerError.Message);
    }

    [Fact]
    public void AFrameWrittenIntoPagesTheSegmentLostIsNotPublished()
    {
        Prerequisites.FaultGuard.Require();
        Writer.Write(new byte[100]);
        Reader.Read(Safety.Timeout).Dispose();

        // Keep the first page (the OIEB and the start of the payload block), lose the rest.
        ExternalCommand.Truncate("/dev/shm/" + Reader.Name, 4096);

        var error = Assert.Throws<BufferCorruptedException>(() => Writer.TryWrite(new byte[64 << 10], TimeSpan.Zero));
        Assert.Contains("lost its shared memory", error.Message);
        Assert.Equal(ReadStatus.TimedOut, Reader.TryRead(out _, TimeSpan.Zero));
    }
}
