using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // open is variadic in C; passing mode as a fixed third argument is ABI-safe for integer
        // arguments on the 64-bit Linux ABIs .NET supports.
        [LibraryImport(Libraries.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Open(string path, int flags, uint mode);
    }
}

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>open(2) with a caller-built NUL-terminated UTF-8 path, for allocation-free opens.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true)]
        internal static unsafe partial int OpenRaw(byte* path, int flags, uint mode);
    }
}
