using ZeroLane.Buffers;
using ZeroLane.Ipc;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Asynchronous reads of many buffers at once sleep in a few shared threads (up to 127 semaphores each), not in a thread
/// per reader, and every one of them still gets its own frame.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class ManyAsyncReadersShareFewThreads : BufferTest
{
    private const int Readers = 300;

    private static int ThreadCount() => Directory.GetDirectories("/proc/self/task").Length;

    [Fact]
    public async Task ThreeHundredPendingReadsAreServedByThreeWaitThreads()
    {
        SemaphoreWaitHub hub = SemaphoreWaitHub.Instance
            ?? throw new Xunit.Sdk.XunitException("The shared wait threads are not available: they need futex_waitv (Linux 5.16 or later) and glibc's semaphore layout.");
        var readers = new List<RingReader>();
        var writers = new List<RingWriter>();
        try
        {
            for (int i = 0; i < Readers; i++)
            {
                string name = NewName("many-async");
                readers.Add(new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 }));
                writers.Add(new RingWriter(name));
            }
            int workersBefore = hub.WorkerCount;
            int threadsBefore = ThreadCount();

            Task<Frame>[] pending = readers.Select(reader => reader.ReadAsync().AsTask()).ToArray();
            Safety.Until(() => readers.All(reader => reader.AsyncWaitsStarted > 0), "every read's wait");

            Assert.All(pending, read => Assert.False(read.IsCompleted));
            // Not a thread per read: this collection runs alone, so the process's thread count says so directly.
            int threadsAdded = ThreadCount() - threadsBefore;
            Assert.True(threadsAdded < Readers / 10, $"{threadsAdded} threads were added for {Readers} pending reads");
            int perWorker = SemaphoreWaitHub.Worker.MaxWaits;
            Assert.True(hub.WorkerCount <= Math.Max(workersBefore, (Readers + perWorker - 1) / perWorker),
                $"{hub.WorkerCount} wait threads for {Readers} pending reads (there were {workersBefore} before)");

            for (int i = 0; i < Readers; i++)
            {
                writers[i].Write(Patterns.Create(32, seed: (ulong)i + 1), Safety.Timeout);
            }
            Frame[] frames = await Task.WhenAll(pending).WaitAsync(Safety.Timeout);
            for (int i = 0; i < Readers; i++)
            {
                using Frame frame = frames[i];
                Patterns.AssertMatches(frame.Span, 32, seed: (ulong)i + 1);
            }
        }
        finally
        {
            writers.ForEach(writer => writer.Dispose());
            readers.ForEach(reader => reader.Dispose());
        }
    }
}
