using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Many frames written before the reader wakes are all read, and the semaphores stay bounded however many
/// frames pass (defect 4: an unbounded read semaphore eventually overflows).
/// </summary>
public sealed class SemaphoreCoalescing : BufferTest
{
    [Fact]
    public void ManyFramesWrittenBeforeTheReaderLooksAreAllRead()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 * 1024 });
        using var writer = new RingWriter(name);

        for (int i = 1; i <= 500; i++)
        {
            writer.Write(Patterns.Create(50, seed: (ulong)i), Safety.Timeout);
        }
        for (int i = 1; i <= 500; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 50, seed: (ulong)i);
        }

        Assert.Equal(ReadStatus.TimedOut, reader.TryRead(out _, Safety.Short));
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    public void ABurstWrittenWhileTheReaderSleepsIsReadInFull(WaitStrategy strategy)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 * 1024, WaitStrategy = strategy });
        using var writer = new RingWriter(name, new WriterOptions { WaitStrategy = strategy });
        using var firstRead = new ManualResetEventSlim();
        using var burstWritten = new ManualResetEventSlim();

        Task<int> reading = Safety.OnThread(() =>
        {
            reader.Read(Safety.Timeout).Dispose();
            firstRead.Set();
            Safety.Wait(burstWritten, "the burst");
            int count = 1;
            while (reader.TryRead(out Frame frame, TimeSpan.Zero) == ReadStatus.Success)
            {
                Assert.Equal((ulong)count + 1, frame.Sequence);
                frame.Dispose();
                count++;
            }
            return count;
        });
        writer.Write(new byte[] { 0 }, Safety.Timeout);
        Safety.Wait(firstRead, "the first read");
        for (int i = 0; i < 300; i++)
        {
            writer.Write(new byte[] { 1 }, Safety.Timeout);
        }
        burstWritten.Set();

        Assert.Equal(301, Safety.Join(reading, "the reader"));
    }

    [Fact]
    public void TheReadSemaphoreStaysBoundedAfterManyThousandFrames()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);
        using PeerSemaphore readSemaphore = PeerSemaphore.Open(PeerSemaphore.ReadName(name));
        using PeerSemaphore writeSemaphore = PeerSemaphore.Open(PeerSemaphore.WriteName(name));
        byte[] data = new byte[100];

        for (int i = 0; i < 20_000; i++)
        {
            writer.Write(data, Safety.Timeout);
            reader.Read(Safety.Timeout).Dispose();
        }

        Assert.InRange(readSemaphore.Value, 0, 1);
        // sem-w is drained in batches by a reader that never sleeps: bounded by the batch, not by the frame count.
        Assert.InRange(writeSemaphore.Value, 0, RingReader.SemaphoreDrainBatch);
    }

    [Fact]
    public void TheSemaphoresStayBoundedWhenAWriterThreadAndAReaderThreadRunFlatOut()
    {
        const int frames = 20_000;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);
        using PeerSemaphore readSemaphore = PeerSemaphore.Open(PeerSemaphore.ReadName(name));

        Task writing = Safety.OnThread(() =>
        {
            byte[] data = new byte[700];
            for (int i = 0; i < frames; i++)
            {
                writer.Write(data, Safety.Timeout);
            }
        });
        int maxReadSemaphore = 0;
        for (int i = 0; i < frames; i++)
        {
            reader.Read(Safety.Timeout).Dispose();
            maxReadSemaphore = Math.Max(maxReadSemaphore, readSemaphore.Value);
        }
        Safety.Join(writing, "the writer");

        Assert.InRange(maxReadSemaphore, 0, 1);
    }
}
