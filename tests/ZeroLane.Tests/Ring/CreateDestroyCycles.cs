using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A thousand create/use/destroy cycles leak no objects, descriptors or mappings.</summary>
[Collection(NonParallelCollection.Name)]
public sealed class CreateDestroyCycles : BufferTest
{
    // A private lock directory: readers of other processes clean /tmp/zerobuffer, which races with a buffer
    // being recreated (see StaleCleanupRaces); this test is about leaks only.
    private readonly TempDirectory _lockDirectory = new();

    public override void Dispose()
    {
        _lockDirectory.Dispose();
        base.Dispose();
    }

    private static int Count(string directory) => Directory.GetFileSystemEntries(directory).Length;

    private static int MappingCount() => File.ReadAllLines("/proc/self/maps").Length;

    [Fact]
    public void AThousandCyclesLeakNothing()
    {
        string name = NewName();
        void Cycle(int i)
        {
            using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 64, PayloadSize = 4096, LockDirectory = _lockDirectory.Path });
            using var writer = new RingWriter(name);
            writer.Write(new[] { (byte)i }, Safety.Timeout);
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((byte)i, frame.Span[0]);
        }
        for (int i = 0; i < 20; i++)
        {
            Cycle(i);
        }
        int descriptors = Count("/proc/self/fd"), mappings = MappingCount();

        for (int i = 0; i < 1000; i++)
        {
            Cycle(i);
        }

        Assert.Empty(TestBuffers.Leftovers(name, _lockDirectory.Path));
        Assert.InRange(Count("/proc/self/fd"), 0, descriptors + 5);
        Assert.InRange(MappingCount(), 0, mappings + 20);
    }
}
