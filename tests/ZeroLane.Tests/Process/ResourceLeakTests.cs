using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;
using Xunit.Abstractions;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A thousand create/write/read/dispose cycles in this process, and readers in child processes killed with
/// SIGKILL and cleaned up by the next reader, leave no shared memory, semaphore, lock file, descriptor or mapping.
/// </summary>
[Collection(NonParallelCollection.Name)]
public sealed class ResourceLeakTests(ITestOutputHelper output) : PeerTest
{
    private const int Cycles = 1000;
    private const int KilledReaders = 20;
    private const int WarmUpCycles = 20;

    /// <summary>Allowance for descriptors the runtime opens on its own (thread pool, process-output pipes not yet finalized).</summary>
    private const int DescriptorSlack = 16;

    /// <summary>Allowance for mappings the runtime adds on its own (a new thread's stack and guard page, GC regions).</summary>
    private const int MappingSlack = 64;

    [Fact]
    public void CreateDisposeCyclesAndKilledReaderProcessesLeaveNothingBehind()
    {
        string lockDirectory = NewLockDirectory();
        var options = new ReaderOptions { MetadataSize = 64, PayloadSize = 4096, LockDirectory = lockDirectory };
        var used = new List<string>();
        for (int i = 0; i < WarmUpCycles; i++)
        {
            used.Add(Cycle(NewName("leakwarm"), options));
        }
        used.Add(KillReaderProcessAndClean(NewName("leakwarmkill"), options, lockDirectory));
        (int descriptorsBefore, int mappingsBefore) = Measure();

        for (int i = 0; i < Cycles; i++)
        {
            used.Add(Cycle(NewName("leak"), options));
        }
        for (int i = 0; i < KilledReaders; i++)
        {
            used.Add(KillReaderProcessAndClean(NewName("leakkill"), options, lockDirectory));
        }

        (int descriptorsAfter, int mappingsAfter) = Measure();
        output.WriteLine($"descriptors {descriptorsBefore} -> {descriptorsAfter}, mappings {mappingsBefore} -> {mappingsAfter}");
        var names = used.ToHashSet();
        string[] leftovers = Directory.EnumerateFileSystemEntries("/dev/shm")
            .Where(path => names.Contains(BufferNameOf(Path.GetFileName(path))))
            .Concat(Directory.EnumerateFileSystemEntries(lockDirectory))
            .ToArray();
        Assert.Empty(leftovers);
        Assert.InRange(descriptorsAfter, 0, descriptorsBefore + DescriptorSlack);
        Assert.InRange(mappingsAfter, 0, mappingsBefore + MappingSlack);
    }

    /// <summary>Creates a reader and a writer, passes one frame, disposes both; returns the name.</summary>
    private static string Cycle(string name, ReaderOptions options)
    {
        using var reader = new RingReader(name, options);
        using (var writer = new RingWriter(name))
        {
            writer.SetMetadata([1, 2, 3]);
            writer.Write(PatternedFrame(1, 100), HangGuard);
        }
        ReadPatternedFrame(reader, 1, 100);
        Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, HangGuard));
        return name;
    }

    /// <summary>A child creates the buffer and is killed; the next reader of the name (here) removes what it left.</summary>
    private string KillReaderProcessAndClean(string name, ReaderOptions options, string lockDirectory)
    {
        using (PeerProcess child = StartHoldingReader(name, "--payload", "4096", "--metadata", "64", "--lock-dir", lockDirectory))
        {
            child.Kill();
        }
        Assert.Equal(4, Leftovers(name, lockDirectory).Length);
        return Cycle(name, options);
    }

    private static (int Descriptors, int Mappings) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return (Directory.GetFileSystemEntries("/proc/self/fd").Length, File.ReadLines("/proc/self/maps").Count());
    }

    /// <summary>The buffer name a /dev/shm entry belongs to (semaphores carry a <c>sem.sem-w-</c> or <c>sem.sem-r-</c> prefix).</summary>
    private static string BufferNameOf(string entry) =>
        entry.StartsWith("sem.sem-w-", StringComparison.Ordinal) || entry.StartsWith("sem.sem-r-", StringComparison.Ordinal) ? entry[10..] : entry;
}
