using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // open is variadic in C; passing mode as a fixed third argument is ABI-safe for integer
        // arguments on the 64-bit Linux ABIs .NET supports. The descriptor comes back owned by a SafeFileHandle
        // (invalid, -1, on failure: check IsInvalid, then Errno.Last).
        [LibraryImport(Libraries.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial SafeFileHandle Open(string path, int flags, uint mode);
    }
}
