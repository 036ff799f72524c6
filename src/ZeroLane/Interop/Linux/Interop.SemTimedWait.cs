using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>sem_timedwait against CLOCK_REALTIME: the fallback where sem_clockwait is missing.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_timedwait", SetLastError = true)]
        internal static partial int SemTimedWait(nint semaphore, in TimeSpec absoluteTimeout);
    }
}
