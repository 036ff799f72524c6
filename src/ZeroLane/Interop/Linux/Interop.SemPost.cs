using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // glibc's sem_post is an atomic increment plus, only when a waiter is parked, one futex wake:
        // short and non-blocking, so the GC transition can be skipped on this per-frame call.
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_post", SetLastError = true)]
        [SuppressGCTransition]
        internal static partial int SemPost(nint semaphore);
    }
}
