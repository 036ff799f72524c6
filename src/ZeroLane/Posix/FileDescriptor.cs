using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Posix;

/// <summary>Files by descriptor: opening without .NET's implicit lock, size, status, permissions and flock(2).</summary>
/// <remarks>Every descriptor is owned by a <see cref="SafeFileHandle"/> from the moment it exists.</remarks>
internal static class FileDescriptor
{
    /// <summary>
    /// Opens an existing file with open(2) (O_CLOEXEC), bypassing the advisory lock .NET's own file APIs take on Unix, so
    /// that the caller chooses the lock (see <see cref="Lock"/>).
    /// </summary>
    internal static SafeFileHandle OpenExisting(string path, bool writable)
    {
        int flags = (writable ? Interop.Sys.OpenFlags.O_RDWR : Interop.Sys.OpenFlags.O_RDONLY) | Interop.Sys.OpenFlags.O_CLOEXEC;
        SafeFileHandle handle = Interop.Sys.Open(path, flags, 0);
        if (handle.IsInvalid)
        {
            Exception error = PosixError.Last("open", path);
            handle.Dispose();
            throw error;
        }
        return handle;
    }

    /// <summary>
    /// Opens (and with <paramref name="create"/>, creates with <paramref name="mode"/>) a file read-write without following a
    /// final symbolic link. Null with the errno when open(2) fails (ELOOP: the path is a symbolic link).
    /// </summary>
    internal static SafeFileHandle? TryOpenNoFollow(string path, bool create, UnixFileMode mode, out int errno)
    {
        int flags = Interop.Sys.OpenFlags.O_RDWR | Interop.Sys.OpenFlags.O_CLOEXEC | Interop.Sys.OpenFlags.O_NOFOLLOW |
            (create ? Interop.Sys.OpenFlags.O_CREAT : 0);
        SafeFileHandle handle = Interop.Sys.Open(path, flags, (uint)mode);
        if (!handle.IsInvalid)
        {
            errno = 0;
            return handle;
        }
        errno = PosixError.LastErrno;
        handle.Dispose();
        return null;
    }

    /// <summary>
    /// Opens an existing file read-write without following a final symbolic link; null if there is no such file.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">The path is a symbolic link (<paramref name="what"/> names whose path it is).</exception>
    internal static SafeFileHandle? TryOpenExistingNoFollow(string path, string what)
    {
        SafeFileHandle? handle = TryOpenNoFollow(path, create: false, 0, out int errno);
        if (handle is not null || errno == Interop.Errno.ENOENT)
        {
            return handle;
        }
        if (errno == Interop.Errno.ELOOP)
        {
            throw new UnauthorizedAccessException($"'{path}' is a symbolic link; ZeroLane never follows a link at {what}.");
        }
        throw PosixError.Create(errno, "open", path);
    }

    /// <summary>Size in bytes of what the descriptor refers to.</summary>
    internal static long Size(SafeFileHandle handle, string what)
    {
        long size = Interop.Sys.LSeek(handle, 0, Interop.Sys.SEEK_END);
        if (size < 0)
        {
            throw PosixError.Last("lseek", what);
        }
        return size;
    }

    /// <summary>fstat(2) of an open file.</summary>
    internal static FileStatus Status(SafeFileHandle handle, string what)
    {
        if (Interop.Sys.FStat(handle, out Interop.Sys.FileStatus status) != 0)
        {
            throw PosixError.Last("fstat", what);
        }
        return new FileStatus(status);
    }

    /// <summary>lstat(2) of a path (a final symbolic link is described, not followed), or null if nothing is there.</summary>
    internal static FileStatus? PathStatus(string path)
    {
        if (Interop.Sys.LStat(path, out Interop.Sys.FileStatus status) == 0)
        {
            return new FileStatus(status);
        }
        int errno = PosixError.LastErrno;
        if (errno is Interop.Errno.ENOENT or Interop.Errno.ENOTDIR)
        {
            return null;
        }
        throw PosixError.Create(errno, "lstat", path);
    }

    /// <summary>Sets the permissions of an open file exactly (open and shm_open apply the umask; fchmod does not).</summary>
    internal static void SetPermissions(SafeFileHandle handle, UnixFileMode mode, string what)
    {
        if (Interop.Sys.FChmod(handle, (uint)mode) != 0)
        {
            throw PosixError.Last("fchmod", what);
        }
    }

    /// <summary>Sets the permissions of a path exactly (chmod follows a final symbolic link: use it only on paths just created).</summary>
    internal static void SetPermissions(string path, UnixFileMode mode)
    {
        if (Interop.Sys.Chmod(path, (uint)mode) != 0)
        {
            throw PosixError.Last("chmod", path);
        }
    }

    /// <summary>Sets the file's length (ftruncate); new bytes read as zeros.</summary>
    internal static void SetLength(SafeFileHandle handle, long length, string what)
    {
        if (Interop.Sys.FTruncate(handle, length) != 0)
        {
            throw PosixError.Last("ftruncate", what);
        }
    }

    /// <summary>
    /// Gives the file's first <paramref name="length"/> bytes their blocks now (posix_fallocate). Returns 0, or the error
    /// number (ENOSPC when the filesystem has no room), which the caller turns into its own message.
    /// </summary>
    internal static int Allocate(SafeFileHandle handle, long length)
    {
        int error;
        while ((error = Interop.Sys.PosixFallocate(handle, 0, length)) == Interop.Errno.EINTR)
        {
        }
        return error;
    }

    /// <summary>The real user ID the process runs as (geteuid).</summary>
    internal static uint EffectiveUserId => Interop.Sys.GetEUid();

    /// <summary>Removes a name (unlink); false if it was absent.</summary>
    internal static bool Unlink(string path)
    {
        if (Interop.Sys.Unlink(path) == 0)
        {
            return true;
        }
        int errno = PosixError.LastErrno;
        if (errno == Interop.Errno.ENOENT)
        {
            return false;
        }
        throw PosixError.Create(errno, "unlink", path);
    }

    /// <summary>How long <see cref="Lock"/> waits for a conflicting flock before giving up.</summary>
    internal static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Takes a shared or exclusive flock(2) on the open file, waiting up to <see cref="LockTimeout"/> for a holder of
    /// a conflicting lock (polled: the locks ZeroLane takes last microseconds); released by disposing the result or
    /// closing the descriptor.
    /// </summary>
    /// <exception cref="IOException">Another holder kept a conflicting lock for longer than <see cref="LockTimeout"/>.</exception>
    internal static FileLockScope Lock(SafeFileHandle handle, bool exclusive, string what)
    {
        int operation = (exclusive ? Interop.Sys.LOCK_EX : Interop.Sys.LOCK_SH) | Interop.Sys.LOCK_NB;
        long deadline = Environment.TickCount64 + (long)LockTimeout.TotalMilliseconds;
        while (!TryLock(handle, operation, what))
        {
            if (Environment.TickCount64 >= deadline)
            {
                throw new IOException(
                    $"'{what}' stayed locked ({(exclusive ? "shared or exclusive" : "exclusive")} flock) by another open of the file for " +
                    $"{LockTimeout.TotalSeconds:0} s. Another program (or a .NET FileStream, which takes a shared flock) may hold it: " +
                    "close it and retry.");
            }
            Thread.Sleep(1);
        }
        return new FileLockScope(handle);
    }

    /// <summary>Takes an exclusive flock without waiting; false if another open of the file holds a lock on it.</summary>
    internal static bool TryLockExclusive(SafeFileHandle handle, string what) =>
        TryLock(handle, Interop.Sys.LOCK_EX | Interop.Sys.LOCK_NB, what);

    private static bool TryLock(SafeFileHandle handle, int operation, string what)
    {
        while (Interop.Sys.Flock(handle, operation) != 0)
        {
            int errno = PosixError.LastErrno;
            if (errno == Interop.Errno.EWOULDBLOCK)
            {
                return false;
            }
            if (errno != Interop.Errno.EINTR)
            {
                throw PosixError.Create(errno, "flock", what);
            }
        }
        return true;
    }

    /// <summary>An flock held on a descriptor until disposed.</summary>
    internal readonly struct FileLockScope(SafeFileHandle handle) : IDisposable
    {
        public void Dispose()
        {
            if (!handle.IsClosed)
            {
                Interop.Sys.Flock(handle, Interop.Sys.LOCK_UN);
            }
        }
    }
}
