namespace ZeroLane.Posix;

/// <summary>What stat(2) says of a file: identity, type, owner, permissions and size.</summary>
/// <param name="Device">st_dev.</param>
/// <param name="Inode">st_ino; with <paramref name="Device"/> it identifies the file.</param>
/// <param name="Mode">st_mode: type and permission bits.</param>
/// <param name="OwnerId">st_uid.</param>
/// <param name="Size">st_size in bytes.</param>
internal readonly record struct FileStatus(ulong Device, ulong Inode, uint Mode, uint OwnerId, long Size)
{
    internal FileStatus(in Interop.Sys.FileStatus status)
        : this(status.Device, status.Inode, status.Mode, status.OwnerId, status.Size)
    {
    }

    /// <summary>The (device, inode) pair that identifies the file.</summary>
    internal (ulong Device, ulong Inode) Identity => (Device, Inode);

    internal bool IsDirectory => (Mode & Interop.Sys.S_IFMT) == Interop.Sys.S_IFDIR;

    internal bool IsRegularFile => (Mode & Interop.Sys.S_IFMT) == Interop.Sys.S_IFREG;

    internal bool IsSymbolicLink => (Mode & Interop.Sys.S_IFMT) == Interop.Sys.S_IFLNK;

    internal bool IsSocket => (Mode & Interop.Sys.S_IFMT) == Interop.Sys.S_IFSOCK;

    /// <summary>The permission bits, with set-user-ID, set-group-ID and sticky.</summary>
    internal UnixFileMode Permissions => (UnixFileMode)(Mode & 0xFFF);
}
