using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Posix;

/// <summary>
/// A POSIX shared memory object (<c>/dev/shm/NAME</c>) mapped into this process.
/// </summary>
/// <remarks>
/// Design: the descriptor is closed as soon as the mapping exists (the mapping keeps the pages alive);
/// only the <see cref="MemoryMapping"/> lives as long as this object. Unlinking the name is separate
/// from unmapping, so a reader can remove the name while a writer still has the pages mapped.
/// </remarks>
internal sealed class SharedMemory : IDisposable
{
    private SharedMemory(string name, MemoryMapping mapping)
    {
        Name = name;
        Mapping = mapping;
    }

    internal string Name { get; }

    internal MemoryMapping Mapping { get; }

    internal long Length => Mapping.Length;

    /// <summary>Creates a new object of <paramref name="size"/> bytes (zero-filled); fails if the name exists.</summary>
    internal static SharedMemory CreateExclusive(string name, long size, UnixFileMode mode)
    {
        string path = DevicePath(name);
        using SafeFileHandle handle = Interop.Sys.ShmOpen(name, Interop.Sys.OpenFlags.O_RDWR | Interop.Sys.OpenFlags.O_CREAT |
            Interop.Sys.OpenFlags.O_EXCL | Interop.Sys.OpenFlags.O_CLOEXEC, (uint)mode);
        if (handle.IsInvalid)
        {
            throw PosixError.Last("shm_open(create)", path);
        }
        try
        {
            // shm_open applies the umask; set the requested mode exactly (it may be wider, for cross-user use).
            FileDescriptor.SetPermissions(handle, mode, path);
            FileDescriptor.SetLength(handle, size, path);
            Allocate(handle, size, name);
            return new SharedMemory(name, MemoryMapping.Map(handle, size, MappingAccess.ReadWrite, path));
        }
        catch
        {
            Interop.Sys.ShmUnlink(name);
            throw;
        }
    }

    /// <summary>
    /// Gives the object all its pages now. ftruncate alone leaves it sparse, and on a /dev/shm too small for it (64 MiB
    /// in a default Docker container) the first touch of a page the filesystem cannot supply would kill the process
    /// with SIGBUS, long after creation. Allocating up front turns that into a clear error here.
    /// </summary>
    private static void Allocate(SafeFileHandle handle, long size, string name)
    {
        int error = FileDescriptor.Allocate(handle, size);
        if (error == Interop.Errno.ENOSPC)
        {
            throw new IOException(
                $"/dev/shm has no room for shared memory object '{name}' of {size:N0} bytes ({FreeBytes():N0} bytes free). " +
                "Free space there, make /dev/shm larger (in Docker: --shm-size), or ask for a smaller object.", NoRoomHResult);
        }
        if (error != 0)
        {
            throw PosixError.Create(error, "posix_fallocate", DevicePath(name));
        }
    }

    private static long FreeBytes()
    {
        try
        {
            return new DriveInfo("/dev/shm").AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>Opens an existing object, or returns null when no object has that name.</summary>
    internal static SharedMemory? TryOpen(string name, bool writable)
    {
        string path = DevicePath(name);
        int flags = (writable ? Interop.Sys.OpenFlags.O_RDWR : Interop.Sys.OpenFlags.O_RDONLY) | Interop.Sys.OpenFlags.O_CLOEXEC;
        using SafeFileHandle handle = Interop.Sys.ShmOpen(name, flags, 0);
        if (handle.IsInvalid)
        {
            int errno = PosixError.LastErrno;
            if (errno == Interop.Errno.ENOENT)
            {
                return null;
            }
            throw PosixError.Create(errno, "shm_open", path);
        }
        long size = FileDescriptor.Size(handle, path);
        if (size == 0)
        {
            // Created but not yet sized: the creator is between shm_open and ftruncate.
            return new SharedMemory(name, MemoryMapping.Empty());
        }
        return new SharedMemory(name, MemoryMapping.Map(handle, size, writable ? MappingAccess.ReadWrite : MappingAccess.ReadOnly, path));
    }

    /// <summary>Removes the name; returns false if it did not exist.</summary>
    internal static bool Unlink(string name)
    {
        if (Interop.Sys.ShmUnlink(name) == 0)
        {
            return true;
        }
        int errno = PosixError.LastErrno;
        if (errno == Interop.Errno.ENOENT)
        {
            return false;
        }
        throw PosixError.Create(errno, "shm_unlink", DevicePath(name));
    }

    /// <summary>The <see cref="Exception.HResult"/> of the <see cref="IOException"/> that says /dev/shm has no room (ENOSPC).</summary>
    internal const int NoRoomHResult = Interop.Errno.ENOSPC;

    /// <summary>Where glibc keeps a shared memory object: <c>/dev/shm/NAME</c>.</summary>
    internal static string DevicePath(string name) => "/dev/shm/" + name;

    public void Dispose() => Mapping.Dispose();
}
