namespace ZeroLane.Posix;

/// <summary>
/// A list of 32-bit words to sleep on at once with futex_waitv(2) (Linux 5.16+): the sleep ends when any of them is woken,
/// when any no longer holds the value it was added with, or at the timeout. One thread can so wait for many semaphores
/// (their value words, see <see cref="NamedSemaphore.ValueAddress"/>) plus a word of its own that other threads wake.
/// </summary>
internal sealed class FutexWaitList
{
    /// <summary>Most words one list holds (FUTEX_WAITV_MAX).</summary>
    internal const int Capacity = Interop.Sys.FUTEX_WAITV_MAX;

    private readonly Interop.Sys.FutexWaitEntry[] _entries = new Interop.Sys.FutexWaitEntry[Capacity];

    /// <summary>Whether this kernel has futex_waitv.</summary>
    internal static bool IsSupported { get; } = Probe();

    /// <summary>Words added since the last <see cref="Clear"/>.</summary>
    internal int Count { get; private set; }

    internal void Clear() => Count = 0;

    /// <summary>Adds the word at <paramref name="address"/>, to be slept on while it holds <paramref name="expected"/>.</summary>
    /// <param name="address">A 32-bit word.</param>
    /// <param name="expected">The value it must still hold for the sleep to begin.</param>
    /// <param name="processPrivate">True for a word only this process maps (cheaper); false for shared memory.</param>
    internal void Add(nint address, uint expected, bool processPrivate)
    {
        if (Count == Capacity)
        {
            throw new InvalidOperationException($"A futex wait list holds at most {Capacity} words.");
        }
        _entries[Count++] = new Interop.Sys.FutexWaitEntry
        {
            Value = expected,
            Address = (ulong)address,
            Flags = Interop.Sys.FUTEX2_SIZE_U32 | (processPrivate ? Interop.Sys.FUTEX2_PRIVATE : 0),
        };
    }

    /// <summary>
    /// Sleeps until a word is woken or changed, or <paramref name="timeout"/> passes (CLOCK_MONOTONIC). Returns without
    /// saying which: the caller looks at its words again. A signal or an address that was unmapped meanwhile also ends it.
    /// </summary>
    internal void Wait(TimeSpan timeout)
    {
        Interop.Sys.ClockGetTime(Interop.Sys.CLOCK_MONOTONIC, out Interop.Sys.TimeSpec now);
        long nanoseconds = now.Nanoseconds + Math.Min(timeout.Ticks, TimeSpan.FromDays(365).Ticks) * 100;
        var deadline = new Interop.Sys.TimeSpec
        {
            Seconds = now.Seconds + nanoseconds / 1_000_000_000,
            Nanoseconds = nanoseconds % 1_000_000_000,
        };
        if (Interop.Sys.FutexWaitV(_entries.AsSpan(0, Count), deadline, Interop.Sys.CLOCK_MONOTONIC) < 0)
        {
            int errno = PosixError.LastErrno;
            if (errno is not (Interop.Errno.EAGAIN or Interop.Errno.ETIMEDOUT or Interop.Errno.EINTR or Interop.Errno.EFAULT))
            {
                throw PosixError.Create(errno, "futex_waitv");
            }
        }
    }

    /// <summary>Wakes the sleepers on the process-private word at <paramref name="address"/>.</summary>
    internal static void Wake(nint address) => Interop.Sys.FutexWake(address, int.MaxValue, processPrivate: true);

    /// <summary>futex_waitv with no words fails with EINVAL where the call exists and ENOSYS where it does not.</summary>
    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        var none = default(Interop.Sys.TimeSpec);
        return Interop.Sys.FutexWaitV([], none, Interop.Sys.CLOCK_MONOTONIC) < 0 && PosixError.LastErrno != Interop.Errno.ENOSYS;
    }
}
