using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int SEEK_END = 2;

        /// <summary>lseek(2); with SEEK_END it tells a descriptor's size.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
        internal static partial long LSeek(SafeHandle fd, long offset, int whence);
    }
}
