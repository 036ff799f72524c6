using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Disposing the reader removes every object of the buffer, and a failed creation leaves nothing behind.</summary>
public sealed class BufferLifecycle : BufferTest
{
    [Fact]
    public void TheReaderCreatesAllFourObjectsAndDisposeRemovesThemAll()
    {
        string name = NewName();
        var reader = new RingReader(name, new ReaderOptions { MetadataSize = 1024, PayloadSize = 4096 });
        Assert.Equal(4, TestBuffers.Leftovers(name).Length);
        var writer = new RingWriter(name);
        writer.Write(new byte[] { 1 }, Safety.Timeout);

        writer.Dispose();
        Assert.Equal(4, TestBuffers.Leftovers(name).Length);
        reader.Dispose();

        Assert.Empty(TestBuffers.Leftovers(name));
    }

    [Fact]
    public void DisposingTheReaderWhileTheWriterIsConnectedRemovesEverythingAndTheWriterSeesItGone()
    {
        string name = NewName();
        var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);
        writer.Write(new byte[] { 1 }, Safety.Timeout);

        reader.Dispose();

        Assert.Empty(TestBuffers.Leftovers(name));
        Assert.Equal(WriteStatus.ReaderGone, writer.TryWrite(new byte[] { 2 }, Safety.Timeout));
    }

    [Fact]
    public void DisposingTwiceIsHarmlessAndDisposedEndpointsThrowObjectDisposedException()
    {
        string name = NewName();
        var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        var writer = new RingWriter(name);

        writer.Dispose();
        writer.Dispose();
        reader.Dispose();
        reader.Dispose();

        Assert.Throws<ObjectDisposedException>(() => writer.Write(new byte[] { 1 }, Safety.Timeout));
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out _, Safety.Short));
        Assert.Throws<ObjectDisposedException>(() => reader.GetStats());
    }

    [Fact]
    public void AFailedCreationLeavesNoSemaphoreOrLockFileBehind()
    {
        string name = NewName();
        // A directory where the shared memory object should go: the reader cannot remove or create it.
        Directory.CreateDirectory(RawSegment.PathOf(name));
        try
        {
            Assert.ThrowsAny<Exception>(() => new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 }));

            Assert.False(File.Exists("/dev/shm/sem.sem-w-" + name));
            Assert.False(File.Exists("/dev/shm/sem.sem-r-" + name));
            Assert.False(File.Exists(Path.Combine(BufferNames.DefaultLockDirectory, name + ".lock")));
        }
        finally
        {
            Directory.Delete(RawSegment.PathOf(name));
        }
    }

    [Fact]
    public void StaleObjectsLeftUnderTheNameAreReplacedByTheNextReader()
    {
        string name = NewName();
        // Leftovers of a dead reader: a 4 KiB segment whose reader_pid names no live process, both semaphores
        // (sem-w holding stale units), and an unheld lock file.
        using (RawSegment stale = RawSegment.Create(name, 128 + 4096))
        {
            stale.SetU8(SpecLayout.VersionMajor, 1);
            stale.SetU64(SpecLayout.PayloadSize, 4096);
            stale.SetU64(SpecLayout.PayloadFreeBytes, 4096);
            stale.SetU64(SpecLayout.ReaderPid, int.MaxValue - 1);
            stale.SetU32(SpecLayout.OiebSizeField, 128);
        }
        using (PeerSemaphore staleWrite = PeerSemaphore.Create(PeerSemaphore.WriteName(name)))
        {
            for (int i = 0; i < 5; i++)
            {
                staleWrite.Post();
            }
        }
        PeerSemaphore.Create(PeerSemaphore.ReadName(name)).Dispose();
        Directory.CreateDirectory(BufferNames.DefaultLockDirectory);
        File.WriteAllText(Path.Combine(BufferNames.DefaultLockDirectory, name + ".lock"), "");

        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1024 });
        using var writer = new RingWriter(name);

        Assert.Equal(1024, writer.PayloadCapacity);
        using (PeerSemaphore write = PeerSemaphore.Open(PeerSemaphore.WriteName(name)))
        {
            Assert.Equal(0, write.Value);
        }
        writer.Write(new byte[] { 1 }, Safety.Timeout);
        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
    }
}
