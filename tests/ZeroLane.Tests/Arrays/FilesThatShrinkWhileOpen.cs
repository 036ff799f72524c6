using ZeroLane.Arrays;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

/// <summary>
/// A mapped file that another process truncates gives a clear exception when spans, chunks, copies, message parts
/// or a flush are made (the size is checked), and when an element access touches a page the file no longer has
/// (the fault guard turns the SIGBUS into a flag), instead of killing the process.
/// </summary>
public sealed class FilesThatShrinkWhileOpen : IDisposable
{
    private const int Count = 64 * 1024; // 256 KiB of int: 64 pages
    private readonly string _path = Path.Combine(Path.GetTempPath(), TestBuffers.UniqueName("shrink") + ".npy");
    private readonly string _otherPath = Path.Combine(Path.GetTempPath(), TestBuffers.UniqueName("shrink") + ".npy");

    [Fact]
    public void TheFaultGuardIsActiveInThisProcess()
    {
        Prerequisites.FaultGuard.Require();
        Assert.True(MappedArray.IsFaultGuardActive);
        Assert.Null(MappedArray.FaultGuardInactiveReason);
    }

    [Theory]
    [InlineData(MappedAccess.ReadOnly)]
    [InlineData(MappedAccess.ReadWrite)]
    [InlineData(MappedAccess.CopyOnWrite)]
    public void EverySpanCopyChunkAndFlushFailsClearlyAfterTheFileShrank(MappedAccess access)
    {
        MappedArray<int>.Save(_path, new int[4096], [4096]);
        using MappedArray<int> array = MappedArray<int>.Open(_path, access);
        Assert.Equal(4096, array.GetSpan(0, 4096).Length);

        ExternalCommand.Truncate(_path, array.Header.DataOffset + 100);

        var error = Assert.Throws<MappedArrayFormatException>(() => array.GetSpan(0, 10).Length);
        Assert.Contains("changed size while it was open", error.Message);
        Assert.Throws<MappedArrayFormatException>(() => array.CopyTo(0, new int[10]));
        Assert.Throws<MappedArrayFormatException>(() => array.GetChunks().First());
        Assert.Throws<MappedArrayFormatException>(() => ZeroLane.Messages.Message.CreateBuilder().AddPart(array));
        Assert.Throws<MappedArrayFormatException>(() => array.Flush());
        if (access != MappedAccess.ReadOnly)
        {
            Assert.Throws<MappedArrayFormatException>(() => array.GetWritableSpan(0, 10).Length);
        }
    }

    [Theory]
    [InlineData(MappedAccess.ReadOnly)]
    [InlineData(MappedAccess.ReadWrite)]
    [InlineData(MappedAccess.CopyOnWrite)]
    public void ReadingAnElementPastTheNewEndThrowsInsteadOfKillingTheProcess(MappedAccess access)
    {
        using MappedArray<int> array = SaveAndOpenGuarded(_path, access);

        ExternalCommand.Truncate(_path, array.Header.DataOffset + 4096);

        Assert.Equal(1, array.GetAt(0)); // still in the file, so still served
        var error = Assert.Throws<MappedArrayFormatException>(() => array.GetAt(Count - 1));
        Assert.Contains("shrank while it was mapped", error.Message);
        Assert.Contains("Dispose this array and open the file again", error.Message);
        // From then on every call says so, including on pages the file still has.
        Assert.Throws<MappedArrayFormatException>(() => array.GetAt(0));
        Assert.Throws<MappedArrayFormatException>(() => array.Get(5));
        Assert.Throws<MappedArrayFormatException>(() => array.GetSpan(0, 1).Length);
        Assert.Throws<MappedArrayFormatException>(() => array.Flush());
    }

    [Theory]
    [InlineData(MappedAccess.ReadWrite)]
    [InlineData(MappedAccess.CopyOnWrite)]
    public void WritingAnElementPastTheNewEndThrowsAndLeavesTheFileAsTheOtherProcessLeftIt(MappedAccess access)
    {
        using MappedArray<int> array = SaveAndOpenGuarded(_path, access);
        long truncatedLength = array.Header.DataOffset + 4096;

        ExternalCommand.Truncate(_path, truncatedLength);

        Assert.Throws<MappedArrayFormatException>(() => array.SetAt(Count - 1, 7));
        Assert.Throws<MappedArrayFormatException>(() => array.At(0));
        Assert.Equal(truncatedLength, new FileInfo(_path).Length);
    }

    [Fact]
    public void ASpanTakenBeforeTheFileShrankReadsZerosAndTheNextCallThrows()
    {
        using MappedArray<int> array = SaveAndOpenGuarded(_path, MappedAccess.ReadOnly);
        ReadOnlySpan<int> span = array.GetSpan(0, Count);
        Assert.Equal(Count, span[Count - 1]);

        ExternalCommand.Truncate(_path, array.Header.DataOffset + 4096);

        Assert.Equal(0, span[Count - 1]);
        Assert.Throws<MappedArrayFormatException>(() => array.GetAt(0));
    }

    [Fact]
    public void AnotherArrayKeepsWorkingWhenOneFileShrank()
    {
        using MappedArray<int> shrunk = SaveAndOpenGuarded(_path, MappedAccess.ReadOnly);
        using MappedArray<int> other = SaveAndOpenGuarded(_otherPath, MappedAccess.ReadOnly);

        ExternalCommand.Truncate(_path, shrunk.Header.DataOffset + 4096);
        Assert.Throws<MappedArrayFormatException>(() => shrunk.GetAt(Count - 1));

        Assert.Equal(Count, other.GetAt(Count - 1));
        Assert.Equal(Count, other.GetSpan(0, Count)[Count - 1]);
    }

    [Fact]
    public void ASharedArrayWhoseShmFileIsTruncatedThrowsToo()
    {
        Prerequisites.FaultGuard.Require();
        string name = TestBuffers.UniqueName("shrink-shm");
        try
        {
            using MappedArray<long> array = MappedArray<long>.CreateShared(name, [Count]);
            Assert.True(array.IsGuarded, MappedArray.FaultGuardInactiveReason);
            array.SetAt(Count - 1, 42);

            ExternalCommand.Truncate(MappedArray.SharedPath(name), array.Header.DataOffset);

            Assert.Throws<MappedArrayFormatException>(() => array.GetAt(Count - 1));
            Assert.Throws<MappedArrayFormatException>(() => array.SetAt(0, 1));
        }
        finally
        {
            MappedArray.DeleteShared(name);
        }
    }

    [Fact]
    public void AMessagePartWhoseFileShrankIsNotSentAsZeros()
    {
        string name = TestBuffers.UniqueName("shrink-ring");
        try
        {
            using var reader = new ZeroLane.Buffers.RingReader(name, new ZeroLane.Buffers.ReaderOptions { PayloadSize = 1 << 20 });
            using var writer = new ZeroLane.Buffers.RingWriter(name);
            using MappedArray<int> array = SaveAndOpenGuarded(_path, MappedAccess.ReadOnly);
            using ZeroLane.Messages.Message message = ZeroLane.Messages.Message.CreateBuilder().AddPart(array).Build();

            ExternalCommand.Truncate(_path, array.Header.DataOffset + 4096);

            var error = Assert.Throws<MappedArrayFormatException>(() => writer.WriteMessage(message, Safety.Timeout));
            Assert.Contains("The message was not sent", error.Message);
            Assert.Equal(ZeroLane.ReadStatus.TimedOut, reader.TryRead(out _, TimeSpan.Zero));
        }
        finally
        {
            TestBuffers.Remove(name);
        }
    }

    [Fact]
    public void GuardSlotsAreReturnedWhenArraysAreDisposed()
    {
        Prerequisites.FaultGuard.Require();
        MappedArray<int>.Save(_path, new int[16], [16]);
        // More arrays than the guard's table has slots (16,384), one after another.
        for (int i = 0; i < 20_000; i++)
        {
            using MappedArray<int> array = MappedArray<int>.Open(_path);
            Assert.True(array.IsGuarded, $"array {i} was not guarded: the guard's slots leak");
        }
    }

    [Fact]
    public void AFileThatGrewIsStillServed()
    {
        MappedArray<int>.Save(_path, Enumerable.Range(0, 100).ToArray(), [100]);
        using MappedArray<int> array = MappedArray<int>.Open(_path);
        using (var stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(stream.Length + 4096);
        }

        Assert.Equal(99, array.GetSpan(0, 100)[99]);
        Assert.Equal(99, array.GetAt(99));
    }

    /// <summary>
    /// Saves 1..<see cref="Count"/> and opens it, after checking the mapping is guarded: an unguarded mapping would
    /// take the whole test run down with SIGBUS instead of failing this test.
    /// </summary>
    private static MappedArray<int> SaveAndOpenGuarded(string path, MappedAccess access)
    {
        Prerequisites.FaultGuard.Require();
        MappedArray<int>.Save(path, Enumerable.Range(1, Count).ToArray(), [Count]);
        MappedArray<int> array = MappedArray<int>.Open(path, access);
        if (!array.IsGuarded)
        {
            array.Dispose();
            Assert.Fail("The fault guard does not cover the mapping: " + MappedArray.FaultGuardInactiveReason);
        }
        return array;
    }

    public void Dispose()
    {
        File.Delete(_path);
        File.Delete(_otherPath);
    }
}
