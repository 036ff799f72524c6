namespace ZeroLane.Posix;

/// <summary>The one place where an errno becomes an exception (or a description).</summary>
/// <remarks>
/// The texts speak of files and permissions only: the layers above know what the object is to the user (a buffer, an
/// array, a socket) and add their own advice where it helps.
/// </remarks>
internal static class PosixError
{
    internal static Exception Create(int errno, string operation, string? path = null)
    {
        string subject = path is null ? operation : $"{operation} '{path}'";
        string message = $"{subject} failed: {Describe(errno)} (errno {errno}).";
        return errno switch
        {
            Interop.Errno.EACCES or Interop.Errno.EPERM => new UnauthorizedAccessException(
                message + " It belongs to another user or its permissions do not allow this; run as its owner, or have it " +
                "created with permissions that include you."),
            Interop.Errno.ENOENT => new FileNotFoundException(message, path),
            _ => new IOException(message, errno),
        };
    }

    internal static Exception Last(string operation, string? path = null) =>
        Create(Interop.Errno.Last, operation, path);

    /// <summary>The system's text for an errno value.</summary>
    internal static string Describe(int errno) => Interop.Errno.Describe(errno);

    /// <summary>The errno of the last failed call into libc on this thread.</summary>
    internal static int LastErrno => Interop.Errno.Last;
}
