using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Posix;

/// <summary>Helpers over raw descriptors, so that a descriptor is owned by a SafeFileHandle as soon as it exists.</summary>
internal static class FileDescriptor
{
    internal static SafeFileHandle Own(int fd) => new((IntPtr)fd, ownsHandle: true);

    internal static int Raw(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    /// <summary>Size in bytes of what the descriptor refers to.</summary>
    internal static long Size(SafeFileHandle handle, string what)
    {
        long size = Interop.Sys.LSeek(Raw(handle), 0, Interop.Sys.SEEK_END);
        if (size < 0)
        {
            throw PosixError.Last("lseek", what);
        }
        return size;
    }

    /// <summary>The (device, inode) pair that identifies an open file.</summary>
    internal static unsafe (ulong Device, ulong Inode) Identity(SafeFileHandle handle, string what)
    {
        byte* buffer = stackalloc byte[Interop.Sys.StatBufferSize];
        if (Interop.Sys.FStat(Raw(handle), buffer) != 0)
        {
            throw PosixError.Last("fstat", what);
        }
        return (*(ulong*)buffer, *(ulong*)(buffer + 8));
    }

    /// <summary>The (device, inode) pair of a path without following a final symlink, or null if it does not exist.</summary>
    internal static unsafe (ulong Device, ulong Inode)? PathIdentity(string path)
    {
        byte* buffer = stackalloc byte[Interop.Sys.StatBufferSize];
        return TryLStat(path, buffer) ? (*(ulong*)buffer, *(ulong*)(buffer + 8)) : null;
    }

    /// <summary>Owner and mode bits of a path without following a final symlink, or null if it does not exist.</summary>
    internal static unsafe (uint Owner, uint Mode)? PathOwnerAndMode(string path)
    {
        byte* buffer = stackalloc byte[Interop.Sys.StatBufferSize];
        if (!TryLStat(path, buffer))
        {
            return null;
        }
        // x86-64: st_nlink is 64-bit and precedes st_mode; the generic layout (arm64) has a 32-bit st_mode first.
        bool x64 = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        uint mode = *(uint*)(buffer + (x64 ? 24 : 16));
        uint owner = *(uint*)(buffer + (x64 ? 28 : 24));
        return (owner, mode);
    }

    /// <summary>
    /// Opens <paramref name="path"/> with open(2) (O_CLOEXEC added), bypassing the advisory lock .NET's own file
    /// APIs take on Unix, so that the caller chooses the lock (see <see cref="Lock"/>).
    /// </summary>
    internal static SafeFileHandle Open(string path, int flags)
    {
        int fd = Interop.Sys.Open(path, flags | Interop.Sys.OpenFlags.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw PosixError.Last("open", path);
        }
        return Own(fd);
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
        while (Interop.Sys.Flock(Raw(handle), operation) != 0)
        {
            int errno = Interop.Errno.Last;
            if (errno == Interop.Errno.EWOULDBLOCK && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(1);
            }
            else if (errno == Interop.Errno.EWOULDBLOCK)
            {
                throw new IOException(
                    $"'{what}' stayed locked ({(exclusive ? "shared or exclusive" : "exclusive")} flock) by another open of the file for " +
                    $"{LockTimeout.TotalSeconds:0} s. A ZeroLane metadata update holds it for microseconds; another program (or a .NET " +
                    "FileStream, which takes a shared flock) may hold it: close it and retry.");
            }
            else if (errno != Interop.Errno.EINTR)
            {
                throw PosixError.Create(errno, "flock", what);
            }
        }
        return new FileLockScope(handle);
    }

    /// <summary>An flock held on a descriptor until disposed.</summary>
    internal readonly struct FileLockScope(SafeFileHandle handle) : IDisposable
    {
        public void Dispose()
        {
            if (!handle.IsClosed)
            {
                Interop.Sys.Flock(Raw(handle), Interop.Sys.LOCK_UN);
            }
        }
    }

    /// <summary>lstat into <paramref name="buffer"/>; false if the path does not exist.</summary>
    private static unsafe bool TryLStat(string path, byte* buffer)
    {
        if (Interop.Sys.LStat(path, buffer) == 0)
        {
            return true;
        }
        int errno = Interop.Errno.Last;
        if (errno == Interop.Errno.ENOENT)
        {
            return false;
        }
        throw PosixError.Create(errno, "lstat", path);
    }
}
