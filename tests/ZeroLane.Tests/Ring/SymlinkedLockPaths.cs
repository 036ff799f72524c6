using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Defect 9: a symbolic link planted at a lock path is never followed: the reader refuses the buffer with
/// UnauthorizedAccessException, leaves the link's target untouched, and leaves nothing of its own behind.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SymlinkedLockPaths : BufferTest
{
    private readonly TempDirectory _lockDirectory = new();
    private readonly TempDirectory _elsewhere = new();

    public override void Dispose()
    {
        _lockDirectory.Dispose();
        _elsewhere.Dispose();
        base.Dispose();
    }

    private ReaderOptions Options => new() { MetadataSize = 0, PayloadSize = 4096, LockDirectory = _lockDirectory.Path };

    [Fact]
    public void ASymlinkAtTheLockPathIsRefusedAndItsTargetIsNotTouched()
    {
        string name = NewName();
        string target = Path.Combine(_elsewhere.Path, "victim.txt");
        File.WriteAllText(target, "do not touch");
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        DateTime written = File.GetLastWriteTimeUtc(target);
        string link = Path.Combine(_lockDirectory.Path, name + ".lock");
        File.CreateSymbolicLink(link, target);

        var refused = Assert.Throws<UnauthorizedAccessException>(() => new RingReader(name, Options));

        Assert.Contains("symbolic link", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("do not touch", File.ReadAllText(target));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(target));
        Assert.Equal(written, File.GetLastWriteTimeUtc(target));
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.False(File.Exists(RawSegment.PathOf(name)));
        Assert.False(File.Exists("/dev/shm/sem.sem-w-" + name));
        Assert.False(File.Exists("/dev/shm/sem.sem-r-" + name));
    }

    [Fact]
    public void ADanglingSymlinkAtTheLockPathIsRefusedAndItsTargetIsNotCreated()
    {
        string name = NewName();
        string target = Path.Combine(_elsewhere.Path, "created-by-attack");
        File.CreateSymbolicLink(Path.Combine(_lockDirectory.Path, name + ".lock"), target);

        Assert.Throws<UnauthorizedAccessException>(() => new RingReader(name, Options));

        Assert.False(File.Exists(target));
        Assert.Empty(Directory.GetFileSystemEntries(_elsewhere.Path));
    }

    [Fact]
    public void ASymlinkPlantedForAnotherNameNeitherStopsAReaderNorIsFollowed()
    {
        string target = Path.Combine(_elsewhere.Path, "victim.txt");
        File.WriteAllText(target, "do not touch");
        File.CreateSymbolicLink(Path.Combine(_lockDirectory.Path, NewName() + ".lock"), target);
        string name = NewName();

        using (var reader = new RingReader(name, Options))
        using (var writer = new RingWriter(name))
        {
            writer.Write(new byte[] { 1 }, Safety.Timeout);
            reader.Read(Safety.Timeout).Dispose();
        }

        Assert.Equal("do not touch", File.ReadAllText(target));
    }

    [Fact]
    public void ALockDirectoryThatIsASymlinkIsRefused()
    {
        string linkedDirectory = Path.Combine(_lockDirectory.Path, "linked");
        Directory.CreateSymbolicLink(linkedDirectory, _elsewhere.Path);
        string name = NewName();

        Assert.Throws<UnauthorizedAccessException>(() => new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096, LockDirectory = linkedDirectory }));

        Assert.Empty(Directory.GetFileSystemEntries(_elsewhere.Path));
        Assert.False(File.Exists(RawSegment.PathOf(name)));
    }
}
