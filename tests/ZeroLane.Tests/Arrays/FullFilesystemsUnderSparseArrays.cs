using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

/// <summary>
/// A sparse array on a filesystem without room for its pages (a full /dev/shm, here a 256 KiB tmpfs of our own):
/// writing a page the filesystem cannot allocate raises SIGBUS, which the fault guard turns into an IOException.
/// </summary>
public sealed class FullFilesystemsUnderSparseArrays : IDisposable
{
    private readonly string _mountPoint = Directory.CreateTempSubdirectory("zerolane-tinyfs-").FullName;
    private bool _mounted;

    [Fact]
    public void WritingPastTheRoomTheFilesystemHasThrowsIOExceptionInsteadOfKillingTheProcess()
    {
        Prerequisites.FaultGuard.Require();
        Mount("size=256k,mode=0700");
        const int count = 1 << 17; // 1 MiB of long: four times the filesystem
        using MappedArray<long> array = MappedArray<long>.Create(Path.Combine(_mountPoint, "big.npy"), [count]);
        Assert.True(array.IsGuarded, MappedArray.FaultGuardInactiveReason);

        long written = 0;
        var error = Assert.Throws<IOException>(() =>
        {
            for (long i = 0; i < count; i += 512) // one element per 4 KiB page
            {
                array.SetAt(i, i + 1);
                written = i;
            }
        });

        Assert.Contains("out of space", error.Message);
        Assert.InRange(written, 1, count / 2); // the filesystem filled up partway
        Assert.Throws<IOException>(() => array.GetAt(0));
    }

    /// <summary>Mounts a tmpfs of our own at the mount point: needs root (<see cref="Prerequisites.Root"/>).</summary>
    private void Mount(string options)
    {
        Prerequisites.Root.Require();
        ExternalCommand.Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", _mountPoint);
        _mounted = true;
    }

    public void Dispose()
    {
        if (_mounted)
        {
            // Lazy: detaches at once even if something still has a file open there.
            ExternalCommand.Run("umount", "-l", _mountPoint);
        }
        Directory.Delete(_mountPoint, recursive: true);
    }
}
