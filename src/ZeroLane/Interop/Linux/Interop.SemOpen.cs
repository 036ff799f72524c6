using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        // sem_open is variadic; mode and value as fixed integer arguments are ABI-safe on 64-bit Linux. SEM_FAILED in
        // glibc is (sem_t*)0, which the handle reports as invalid.
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial SafeSemaphoreHandle SemOpen(string name, int flags, uint mode, uint value);

        /// <summary>sem_close(3), called only by <see cref="SafeSemaphoreHandle"/> when it is released.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_close", SetLastError = true)]
        internal static partial int SemClose(nint semaphore);
    }
}
