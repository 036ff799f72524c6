
namespace ZeroLane.Posix;

/// <summary>The one place where an errno becomes an exception.</summary>
internal static class PosixError
{
    internal static Exception Create(int errno, string operation, string? path = null)
    {
        string subject = path is null ? operation : $"{operation} '{path}'";
        string message = $"{subject} failed: {Interop.Errno.Describe(errno)} (errno {errno}).";
        return errno switch
        {
            Interop.Errno.EACCES or Interop.Errno.EPERM => new UnauthorizedAccessException(
                message + " The object belongs to another user or its permissions do not allow this; " +
                "run as its owner or create it with wider permissions (BufferOptions.Permissions)."),
            Interop.Errno.ENOENT => new FileNotFoundException(message, path),
            _ => new IOException(message, errno),
        };
    }

    internal static Exception Last(string operation, string? path = null) =>
        Create(Interop.Errno.Last, operation, path);
}
