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
