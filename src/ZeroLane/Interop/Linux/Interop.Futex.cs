using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>futex_waitv (Linux 5.16+) waits on at most this many words at once.</summary>
        internal const int FUTEX_WAITV_MAX = 128;

        /// <summary>futex2 flags of one <see cref="FutexWaitEntry"/>: a 32-bit word, and (optionally) private to the process.</summary>
        internal const uint FUTEX2_SIZE_U32 = 0x02;
        internal const uint FUTEX2_PRIVATE = 128;

        private const int FUTEX_WAKE = 1;
        private const int FUTEX_PRIVATE_FLAG = 128;
        private const long SYS_futex_waitv = 449; // the same number on x86-64 and arm64 (asm-generic)

        /// <summary>struct futex_waitv: wait while the 32-bit word at <see cref="Address"/> holds <see cref="Value"/>.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct FutexWaitEntry
        {
            internal ulong Value;
            internal ulong Address;
            internal uint Flags;
            internal uint Reserved;
        }

        /// <summary>
        /// futex_waitv(2): sleeps until one of the words is woken (returns its index), one no longer holds its expected value
        /// (-1, EAGAIN), the absolute <paramref name="deadline"/> on <paramref name="clock"/> passes (-1, ETIMEDOUT), or a signal
        /// arrives (-1, EINTR). -1 with ENOSYS where the kernel is older than 5.16.
        /// </summary>
        internal static unsafe long FutexWaitV(ReadOnlySpan<FutexWaitEntry> waiters, in TimeSpec deadline, int clock)
        {
            fixed (FutexWaitEntry* entries = waiters)
            fixed (TimeSpec* timeout = &deadline)
            {
                return Syscall(SYS_futex_waitv, (nint)entries, waiters.Length, 0, (nint)timeout, clock);
            }
        }

        /// <summary>FUTEX_WAKE: wakes up to <paramref name="count"/> waiters of the 32-bit word at <paramref name="address"/>.</summary>
        internal static long FutexWake(nint address, int count, bool processPrivate) =>
            Syscall(SysFutex, address, FUTEX_WAKE | (processPrivate ? FUTEX_PRIVATE_FLAG : 0), count, 0, 0);

        /// <summary>SYS_futex differs between architectures: 202 on x86-64, 98 on arm64.</summary>
        private static long SysFutex => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 202 : 98;

        // syscall(2) is variadic; integer and pointer arguments passed as fixed ones are ABI-safe on 64-bit Linux, and glibc's
        // syscall only moves registers.
        [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
        private static partial long Syscall(long number, nint argument1, nint argument2, nint argument3, nint argument4, nint argument5);
    }
}
