using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int SEEK_END = 2;

        /// <summary>lseek(2); used with SEEK_END to learn a descriptor's size without the arch-specific struct stat.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
        internal static partial long LSeek(int fd, long offset, int whence);
    }
}
