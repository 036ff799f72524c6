using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // A plain load in user space.
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_getvalue", SetLastError = true)]
        [SuppressGCTransition]
        internal static partial int SemGetValue(nint semaphore, out int value);
    }
}
