using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Posix;

/// <summary>
/// An exclusive flock(2) on a lock file, held for the owner's lifetime. The kernel drops the lock when
/// the process dies, which is how a later process tells a stale buffer from a live one.
/// </summary>
/// <remarks>
/// Design: the file is opened with O_NOFOLLOW so that a symlink planted at the lock path is refused, and
/// after locking we check that the path still names the inode we locked (another process may have removed
/// a stale file between our open and our flock); if not, we start again.
/// </remarks>
internal sealed class FileLock : IDisposable
{
    private readonly SafeFileHandle _handle;
    private int _disposed;

    private FileLock(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    internal string Path { get; }

    /// <summary>Creates (if needed) and locks the file; returns null if another live process holds the lock.</summary>
    internal static FileLock? TryAcquire(string path, UnixFileMode mode)
    {
        for (int attempt = 0; ; attempt++)
        {
            SafeFileHandle handle = OpenNoFollow(path, create: true, mode)!;
            try
            {
                if (!TryLock(handle, path))
                {
                    handle.Dispose();
                    return null;
                }
                if (FileDescriptor.PathStatus(path)?.Identity == FileDescriptor.Status(handle, path).Identity)
                {
                    // open applies the umask; set the requested mode exactly, as for the other objects.
                    FileDescriptor.SetPermissions(handle, mode, path);
                    return new FileLock(path, handle);
                }
                // Someone removed or replaced the file after we opened it: our lock guards nothing.
                handle.Dispose();
                if (attempt == 10)
                {
                    throw new IOException($"The lock file '{path}' keeps being replaced by another process; giving up.");
                }
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
    }

    /// <summary>True when a lock file exists at the path and no process holds its lock.</summary>
    internal static bool IsStale(string path)
    {
        using SafeFileHandle? handle = OpenNoFollow(path, create: false, 0);
        return handle is not null && TryLock(handle, path);
    }

    /// <summary>Removes a lock file nobody holds; returns false if it is held or absent.</summary>
    internal static bool TryRemoveStale(string path)
    {
        using SafeFileHandle? handle = OpenNoFollow(path, create: false, 0);
        if (handle is null || !TryLock(handle, path))
        {
            return false;
        }
        if (FileDescriptor.PathStatus(path)?.Identity != FileDescriptor.Status(handle, path).Identity)
        {
            return false;
        }
        FileDescriptor.Unlink(path);
        return true;
    }

    private static SafeFileHandle? OpenNoFollow(string path, bool create, UnixFileMode mode)
    {
        SafeFileHandle? handle = FileDescriptor.TryOpenNoFollow(path, create, mode, out int errno);
        if (handle is not null)
        {
            return handle;
        }
        if (errno == Interop.Errno.ENOENT && !create)
        {
            return null;
        }
        if (errno == Interop.Errno.ELOOP)
        {
            throw new UnauthorizedAccessException(
                $"The lock path '{path}' is a symbolic link. ZeroLane never follows a link at a lock path, since " +
                "another user could plant one to redirect it; remove the link, or choose another lock directory.");
        }
        throw PosixError.Create(errno, "open", path);
    }

    private static bool TryLock(SafeFileHandle handle, string path) => FileDescriptor.TryLockExclusive(handle, path);

    /// <summary>Removes the lock file, then releases the lock (closing the descriptor drops it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            FileDescriptor.Unlink(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Closing the descriptor below still drops the lock; a file left behind is stale and removed by the next cleaner.
        }
        _handle.Dispose();
    }
}
