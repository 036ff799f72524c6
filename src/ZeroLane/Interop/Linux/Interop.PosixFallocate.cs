using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>posix_fallocate(3): allocates the range's blocks now; returns 0 or an error number (errno is not set).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "posix_fallocate")]
        internal static partial int PosixFallocate(SafeHandle fd, long offset, long length);
    }
}
