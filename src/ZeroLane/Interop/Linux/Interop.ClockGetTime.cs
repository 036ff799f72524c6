using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int CLOCK_REALTIME = 0;
        internal const int CLOCK_MONOTONIC = 1;

        /// <summary>struct timespec on 64-bit Linux.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TimeSpec
        {
            internal long Seconds;
            internal long Nanoseconds;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "clock_gettime", SetLastError = true)]
        [SuppressGCTransition]
        internal static partial int ClockGetTime(int clock, out TimeSpec time);
    }
}
