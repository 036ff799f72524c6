namespace ZeroLane.Posix;

/// <summary>
/// The rule for a directory of lock files shared by several users (<c>/tmp/zerobuffer</c> by default): created
/// world-writable and sticky like /tmp, never a symbolic link, and never a directory of another user that anyone may
/// write to without the sticky bit (where lock files could be removed or replaced by others).
/// </summary>
internal static class LockDirectory
{
    /// <summary>World-writable and sticky (1777): users share the directory; each lock file inside stays its owner's alone.</summary>
    private const UnixFileMode SharedSticky = (UnixFileMode)0b1_111_111_111;

    /// <summary>Creates the directory if it is missing, then checks that it is safe to keep lock files in.</summary>
    /// <exception cref="UnauthorizedAccessException">The path is a symbolic link, or another user's directory that anyone may write to without the sticky bit.</exception>
    /// <exception cref="IOException">The path exists and is not a directory.</exception>
    internal static void EnsureSafe(string directory)
    {
        if (FileDescriptor.PathStatus(directory) is null)
        {
            Directory.CreateDirectory(directory);
            if (FileDescriptor.PathStatus(directory) is { IsDirectory: true } created && created.OwnerId == FileDescriptor.EffectiveUserId)
            {
                FileDescriptor.SetPermissions(directory, SharedSticky);
            }
        }
        FileStatus status = FileDescriptor.PathStatus(directory)
            ?? throw new DirectoryNotFoundException($"The lock directory '{directory}' vanished while it was being created.");
        if (status.IsSymbolicLink)
        {
            throw new UnauthorizedAccessException(
                $"The lock directory '{directory}' is a symbolic link; ZeroLane does not follow links at lock paths, since " +
                "another user could plant one. Remove it or choose another lock directory.");
        }
        if (!status.IsDirectory)
        {
            throw new IOException($"The lock directory '{directory}' exists but is not a directory.");
        }
        UnixFileMode permissions = status.Permissions;
        if (status.OwnerId != FileDescriptor.EffectiveUserId && status.OwnerId != 0 &&
            permissions.HasFlag(UnixFileMode.OtherWrite) && !permissions.HasFlag(UnixFileMode.StickyBit))
        {
            throw new UnauthorizedAccessException(
                $"The lock directory '{directory}' belongs to another user (uid {status.OwnerId}) and is world-writable without the sticky bit, " +
                "so any user could remove or replace lock files in it. Remove it (it is recreated safely) or choose another lock directory.");
        }
    }
}
