using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int PROT_READ = 0x1;
        internal const int PROT_WRITE = 0x2;
        internal const int MAP_SHARED = 0x1;
        internal const int MAP_PRIVATE = 0x2;

        /// <summary>MAP_FAILED is (void*)-1, not null.</summary>
        internal static readonly nint MAP_FAILED = -1;

        // An address, not a descriptor: the caller wraps it in its mapping handle at once, as dotnet/runtime does.
        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static partial nint MMap(nint address, nuint length, int protection, int flags, SafeHandle fd, long offset);

        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int MUnmap(nint address, nuint length);
    }
}
