using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>sem_clockwait (glibc 2.30+): waits until an absolute time on the given clock, so a
        /// wall-clock step cannot stretch or cut the wait.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_clockwait", SetLastError = true)]
        internal static partial int SemClockWait(nint semaphore, int clock, in TimeSpec absoluteTimeout);
    }
}
