using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Posix;

/// <summary>
/// A POSIX shared memory object (<c>/dev/shm/NAME</c>) mapped into this process.
/// </summary>
/// <remarks>
/// Design: the descriptor is closed as soon as the mapping exists (the mapping keeps the pages alive);
/// only the <see cref="SafeMappingHandle"/> lives as long as this object. Unlinking the name is separate
/// from unmapping, so a reader can remove the name while a writer still has the pages mapped.
/// </remarks>
internal sealed class SharedMemory : IDisposable
{
    private SharedMemory(string name, SafeMappingHandle mapping)
    {
        Name = name;
        Mapping = mapping;
    }

    internal string Name { get; }

    internal SafeMappingHandle Mapping { get; }

    internal long Length => Mapping.Length;

    /// <summary>Creates a new object of <paramref name="size"/> bytes (zero-filled); fails if the name exists.</summary>
    internal static SharedMemory CreateExclusive(string name, long size, UnixFileMode mode)
    {
        int fd = Interop.Sys.ShmOpen(name, Interop.Sys.OpenFlags.O_RDWR | Interop.Sys.OpenFlags.O_CREAT |
            Interop.Sys.OpenFlags.O_EXCL | Interop.Sys.OpenFlags.O_CLOEXEC, (uint)mode);
        if (fd < 0)
        {
            throw PosixError.Last("shm_open(create)", "/dev/shm/" + name);
        }
        using SafeFileHandle handle = FileDescriptor.Own(fd);
        try
        {
            // shm_open applies the umask; set the requested mode exactly (it may be wider, for cross-user use).
            if (Interop.Sys.FChmod(fd, (uint)mode) != 0)
            {
                throw PosixError.Last("fchmod", "/dev/shm/" + name);
            }
            if (Interop.Sys.FTruncate(fd, size) != 0)
            {
                throw PosixError.Last("ftruncate", "/dev/shm/" + name);
            }
            Allocate(fd, size, name);
            return new SharedMemory(name, Map(handle, size, writable: true, name));
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
    private static void Allocate(int fd, long size, string name)
    {
        int error;
        while ((error = Interop.Sys.PosixFallocate(fd, 0, size)) == Interop.Errno.EINTR)
        {
        }
        if (error == Interop.Errno.ENOSPC)
        {
            throw new IOException(
                $"/dev/shm has no room for shared memory object '{name}' of {size:N0} bytes ({FreeBytes():N0} bytes free). " +
                "Free space there (zerolane clean removes stale buffers), make /dev/shm larger (in Docker: --shm-size), " +
                "or ask for a smaller buffer.");
        }
        if (error != 0)
        {
            throw PosixError.Create(error, "posix_fallocate", "/dev/shm/" + name);
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
        int flags = (writable ? Interop.Sys.OpenFlags.O_RDWR : Interop.Sys.OpenFlags.O_RDONLY) | Interop.Sys.OpenFlags.O_CLOEXEC;
        int fd = Interop.Sys.ShmOpen(name, flags, 0);
        if (fd < 0)
        {
            int errno = Interop.Errno.Last;
            if (errno == Interop.Errno.ENOENT)
            {
                return null;
            }
            throw PosixError.Create(errno, "shm_open", "/dev/shm/" + name);
        }
        using SafeFileHandle handle = FileDescriptor.Own(fd);
        long size = FileDescriptor.Size(handle, "/dev/shm/" + name);
        if (size == 0)
        {
            // Created but not yet sized: the creator is between shm_open and ftruncate.
            return new SharedMemory(name, new SafeMappingHandle(IntPtr.Zero, 0));
        }
        return new SharedMemory(name, Map(handle, size, writable, name));
    }

    /// <summary>Removes the name; returns false if it did not exist.</summary>
    internal static bool Unlink(string name)
    {
        if (Interop.Sys.ShmUnlink(name) == 0)
        {
            return true;
        }
        int errno = Interop.Errno.Last;
        if (errno == Interop.Errno.ENOENT)
        {
            return false;
        }
        throw PosixError.Create(errno, "shm_unlink", "/dev/shm/" + name);
    }

    private static SafeMappingHandle Map(SafeFileHandle handle, long size, bool writable, string name)
    {
        int protection = Interop.Sys.PROT_READ | (writable ? Interop.Sys.PROT_WRITE : 0);
        nint address = Interop.Sys.MMap(0, (nuint)size, protection, Interop.Sys.MAP_SHARED, FileDescriptor.Raw(handle), 0);
        if (address == Interop.Sys.MAP_FAILED)
        {
            throw PosixError.Last("mmap", "/dev/shm/" + name);
        }
        var mapping = new SafeMappingHandle(address, size);
        // A segment truncated by another process then reads as zeros and flags the mapping, instead of killing this process.
        mapping.Guard(protection);
        return mapping;
    }

    public void Dispose() => Mapping.Dispose();
}
