using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // Never blocks: a compare-and-swap in user space.
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_trywait", SetLastError = true)]
        [SuppressGCTransition]
        internal static partial int SemTryWait(nint semaphore);
    }
}
