using System.Buffers.Binary;
using ZeroLane.Buffers;
using ZeroLane.Posix;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A reader or writer whose set-up fails part-way leaves nothing behind: no shared memory, semaphore or lock
/// file of a reader, no writer claim in the buffer of a writer.
/// </summary>
/// <remarks>
/// Tests run as root, so permissions cannot make a step fail. One test provokes a real failure: a buffer of
/// 2 x 64 TiB is accepted, its shared memory is created and sized, but no process can map 128 TiB. The
/// others wrap the Linux platform and fail its N-th call, for every N the set-up makes.
/// </remarks>
public sealed class PartialInitialisationTests : PeerTest
{
    [Fact]
    public void ReaderThatCannotMapItsMemoryLeavesNothingBehind()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("nomap");
        var options = new ReaderOptions { MetadataSize = 1L << 46, PayloadSize = 1L << 46, LockDirectory = lockDirectory };

        Exception failure = Record.Exception(() => new RingReader(name, options).Dispose());

        Assert.NotNull(failure);
        Assert.IsNotAssignableFrom<ArgumentException>(failure);
        Assert.Empty(Leftovers(name, lockDirectory));
        using var reader = new RingReader(name, options with { MetadataSize = 0, PayloadSize = 4096 });
    }

    [Fact]
    public void ReaderThatFailsAtAnyPlatformCallLeavesNothingBehind()
    {
        string lockDirectory = NewLockDirectory();
        var options = new ReaderOptions { MetadataSize = 256, PayloadSize = 4096, LockDirectory = lockDirectory };
        var counting = new FaultInjectingPlatform(failAtCall: 0);
        int calls;
        using (new RingReader(NewName("pfcount"), options, counting))
        {
            calls = counting.Calls.Count;
        }
        Assert.True(calls >= 4, $"expected the reader to create a lock, two semaphores and shared memory; calls: {string.Join(", ", counting.Calls)}");

        for (int failAt = 1; failAt <= calls; failAt++)
        {
            string name = NewName("pf");
            var platform = new FaultInjectingPlatform(failAt);

            Exception? failure = Record.Exception(() => new RingReader(name, options, platform).Dispose());

            string step = $"failing call {failAt} of {calls} ({platform.Calls[^1]})";
            Assert.True(failure is FaultInjectingPlatform.InjectedException, $"{step}: expected the injected failure, got {failure}");
            Assert.True(Leftovers(name, lockDirectory).Length == 0, $"{step} left {string.Join(", ", Leftovers(name, lockDirectory))}");
            using var reader = new RingReader(name, options);
        }
    }

    [Fact]
    public void WriterThatFailsAtAnyPlatformCallLeavesNoClaimBehind()
    {
        string name = NewName("wpf");
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        var counting = new FaultInjectingPlatform(failAtCall: 0);
        int calls;
        using (new RingWriter(name, new WriterOptions(), counting))
        {
            calls = counting.Calls.Count;
        }

        for (int failAt = 1; failAt <= calls; failAt++)
        {
            var platform = new FaultInjectingPlatform(failAt);

            Exception? failure = Record.Exception(() => new RingWriter(name, new WriterOptions(), platform).Dispose());

            string step = $"failing call {failAt} of {calls} ({platform.Calls[^1]})";
            Assert.True(failure is FaultInjectingPlatform.InjectedException, $"{step}: expected the injected failure, got {failure}");
            Assert.True(reader.GetStats().WriterPid == 0, $"{step} left writer_pid {reader.GetStats().WriterPid} claimed");
            using var writer = new RingWriter(name);
        }
    }

    [Fact]
    public void WriterThatRefusesACorruptedBufferLeavesNoClaimBehind()
    {
        string name = NewName("wcorrupt");
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        WriteOiebUInt64(name, OiebLayout.PayloadWritePos, 1UL << 40);

        Assert.Throws<BufferCorruptedException>(() => new RingWriter(name));

        WriteOiebUInt64(name, OiebLayout.PayloadWritePos, 0);
        Assert.Equal(0, reader.GetStats().WriterPid);
        Assert.False(reader.IsWriterConnected);
        using var writer = new RingWriter(name);
    }

    private static void WriteOiebUInt64(string name, int offset, ulong value)
    {
        using var shm = new FileStream("/dev/shm/" + name, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        shm.Position = offset;
        shm.Write(bytes);
    }

    /// <summary>
    /// The Linux platform, except that call number <c>failAtCall</c> (1-based; 0 = none) throws instead of
    /// running. The tests count the calls a constructor makes with a platform that never fails, then fail each.
    /// </summary>
    private sealed class FaultInjectingPlatform(int failAtCall) : IIpcPlatform
    {
        private readonly LinuxIpcPlatform _inner = new();

        internal List<string> Calls { get; } = new();

        public ProcessIdentity CurrentProcess => Step(nameof(CurrentProcess), () => _inner.CurrentProcess);

        public SharedMemory CreateSharedMemory(string name, long size, UnixFileMode mode) =>
            Step(nameof(CreateSharedMemory), () => _inner.CreateSharedMemory(name, size, mode));

        public SharedMemory? OpenSharedMemory(string name, bool writable) =>
            Step(nameof(OpenSharedMemory), () => _inner.OpenSharedMemory(name, writable));

        public bool RemoveSharedMemory(string name) => Step(nameof(RemoveSharedMemory), () => _inner.RemoveSharedMemory(name));

        public NamedSemaphore CreateSemaphore(string name, UnixFileMode mode) =>
            Step($"{nameof(CreateSemaphore)} {name}", () => _inner.CreateSemaphore(name, mode));

        public NamedSemaphore? OpenSemaphore(string name) => Step($"{nameof(OpenSemaphore)} {name}", () => _inner.OpenSemaphore(name));

        public bool RemoveSemaphore(string name) => Step($"{nameof(RemoveSemaphore)} {name}", () => _inner.RemoveSemaphore(name));

        public FileLock? TryAcquireLock(string path, UnixFileMode mode) => Step(nameof(TryAcquireLock), () => _inner.TryAcquireLock(path, mode));

        public bool TryRemoveStaleLock(string path) => Step(nameof(TryRemoveStaleLock), () => _inner.TryRemoveStaleLock(path));

        public bool IsAlive(ProcessIdentity process) => Step(nameof(IsAlive), () => _inner.IsAlive(process));

        private T Step<T>(string call, Func<T> run)
        {
            Calls.Add(call);
            if (Calls.Count == failAtCall)
            {
                throw new InjectedException($"Injected failure of call {Calls.Count}: {call}.");
            }
            return run();
        }

        internal sealed class InjectedException(string message) : IOException(message);
    }
}
