using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int MS_SYNC = 4;

        /// <summary>msync(2): writes a shared mapping's dirty pages back to its file.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "msync", SetLastError = true)]
        internal static partial int MSync(nint address, nuint length, int flags);
    }
}
