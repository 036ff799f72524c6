using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int SIGKILL = 9;

        /// <summary>kill(2); signal 0 only asks whether the process exists and may be signalled.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
