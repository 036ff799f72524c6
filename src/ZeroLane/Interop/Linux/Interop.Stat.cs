using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>Large enough for struct stat on every 64-bit Linux ABI (144 bytes on x86-64, 128 on arm64).</summary>
        internal const int StatBufferSize = 256;

        // st_dev and st_ino are the first two 64-bit fields of struct stat on both x86-64 and arm64;
        // that is all ZeroLane reads, so the arch-specific rest of the layout never matters.
        [LibraryImport(Libraries.Libc, EntryPoint = "fstat", SetLastError = true)]
        internal static unsafe partial int FStat(int fd, byte* statBuffer);

        [LibraryImport(Libraries.Libc, EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static unsafe partial int LStat(string path, byte* statBuffer);
    }
}
