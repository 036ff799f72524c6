using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Pending async reads and writes wait without occupying thread-pool threads: many of them at once neither
/// keep pool threads busy nor leave work items queued, and all complete when frames or space arrive.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class AsyncWaitsHoldNoThreadPoolThread : BufferTest
{
    private const int Pending = 32;

    /// <summary>Pool threads running work items plus work items queued: what blocked pool waits would show up as.</summary>
    private static long PoolLoad()
    {
        ThreadPool.GetMaxThreads(out int maxWorkers, out _);
        ThreadPool.GetAvailableThreads(out int availableWorkers, out _);
        return (maxWorkers - availableWorkers) + ThreadPool.PendingWorkItemCount;
    }

    [Fact]
    public async Task ManyPendingReadAsyncCallsOccupyNoThreadPoolThreads()
    {
        var pairs = new List<(RingReader Reader, RingWriter Writer)>();
        try
        {
            for (int i = 0; i < Pending; i++)
            {
                string name = NewName();
                var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 });
                pairs.Add((reader, new RingWriter(name)));
            }
            long before = PoolLoad();

            var reads = pairs.Select(p => p.Reader.ReadAsync().AsTask()).ToList();
            long during = PoolLoad();

            Assert.All(reads, read => Assert.False(read.IsCompleted));
            Assert.True(during - before < Pending / 2,
                $"{Pending} pending reads raised busy plus queued pool work from {before} to {during}: they wait on thread-pool threads");
            foreach ((_, RingWriter writer) in pairs)
            {
                writer.Write(new byte[] { 1 }, Safety.Timeout);
            }
            Frame[] frames = await Task.WhenAll(reads).WaitAsync(Safety.Timeout);
            Assert.All(frames, frame => Assert.Equal(1, frame.Length));
        }
        finally
        {
            foreach ((RingReader reader, RingWriter writer) in pairs)
            {
                writer.Dispose();
                reader.Dispose();
            }
        }
    }

    [Fact]
    public async Task ManyPendingWriteAsyncCallsOccupyNoThreadPoolThreads()
    {
        var pairs = new List<(RingReader Reader, RingWriter Writer)>();
        try
        {
            for (int i = 0; i < Pending; i++)
            {
                string name = NewName();
                var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 });
                var writer = new RingWriter(name);
                writer.Write(new byte[48], Safety.Timeout); // exactly full
                pairs.Add((reader, writer));
            }
            long before = PoolLoad();

            var writes = pairs.Select(p => p.Writer.WriteAsync(new byte[] { 2 }.AsMemory()).AsTask()).ToList();
            long during = PoolLoad();

            Assert.All(writes, write => Assert.False(write.IsCompleted));
            Assert.True(during - before < Pending / 2,
                $"{Pending} pending writes raised busy plus queued pool work from {before} to {during}: they wait on thread-pool threads");
            foreach ((RingReader reader, _) in pairs)
            {
                reader.Read(Safety.Timeout).Dispose();
            }
            await Task.WhenAll(writes).WaitAsync(Safety.Timeout);
        }
        finally
        {
            foreach ((RingReader reader, RingWriter writer) in pairs)
            {
                writer.Dispose();
                reader.Dispose();
            }
        }
    }
}
