using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Defect 9: the four objects of a buffer are owner-only (0600) by default and take exactly the configured
/// permissions when given, whatever the process umask.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ObjectPermissions : BufferTest
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerAndGroup = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    private readonly TempDirectory _lockDirectory = new();

    public override void Dispose()
    {
        _lockDirectory.Dispose();
        base.Dispose();
    }

    private static string Describe(string path, UnixFileMode mode) => $"{path}: {Convert.ToString((int)mode, 8)}";

    [Fact]
    public void AllFourObjectsAreOwnerOnlyByDefault()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });

        string[] paths = TestBuffers.PathsOf(name);
        Assert.All(paths, path => Assert.Equal(Describe(path, OwnerOnly), Describe(path, File.GetUnixFileMode(path))));
    }

    [Fact]
    public void AllFourObjectsTakeTheConfiguredPermissions()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions
        {
            MetadataSize = 0,
            PayloadSize = 4096,
            Permissions = OwnerAndGroup,
            LockDirectory = _lockDirectory.Path,
        });

        string[] paths = TestBuffers.PathsOf(name, _lockDirectory.Path);
        Assert.All(paths, path => Assert.Equal(Describe(path, OwnerAndGroup), Describe(path, File.GetUnixFileMode(path))));
    }

    [Fact]
    public void TheLockFileGoesIntoTheConfiguredLockDirectory()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096, LockDirectory = _lockDirectory.Path });

        Assert.True(File.Exists(Path.Combine(_lockDirectory.Path, name + ".lock")));
        Assert.False(File.Exists(Path.Combine(BufferNames.DefaultLockDirectory, name + ".lock")));
    }

    [Fact]
    public void ALockDirectoryTheReaderCreatesIsStickyLikeTmp()
    {
        using var parent = new TempDirectory();
        string directory = Path.Combine(parent.Path, "locks");
        string name = NewName();

        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096, LockDirectory = directory });

        UnixFileMode mode = File.GetUnixFileMode(directory);
        Assert.True(mode.HasFlag(UnixFileMode.StickyBit), Describe(directory, mode));
    }
}
