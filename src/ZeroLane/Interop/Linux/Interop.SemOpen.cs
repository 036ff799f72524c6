using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>SEM_FAILED in glibc is (sem_t*)0.</summary>
        internal const nint SEM_FAILED = 0;

        // sem_open is variadic; mode and value as fixed integer arguments are ABI-safe on 64-bit Linux.
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial nint SemOpen(string name, int flags, uint mode, uint value);

        [LibraryImport(Libraries.Libc, EntryPoint = "sem_close", SetLastError = true)]
        internal static partial int SemClose(nint semaphore);
    }
}
