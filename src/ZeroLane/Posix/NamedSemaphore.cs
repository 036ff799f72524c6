namespace ZeroLane.Posix;

/// <summary>
/// A POSIX named semaphore (<c>/dev/shm/sem.NAME</c>) opened through libc, since .NET has no named
/// semaphores on Linux.
/// </summary>
/// <remarks>
/// Design: timed waits use an absolute deadline on CLOCK_MONOTONIC (sem_clockwait) so that a wall-clock
/// step neither stretches nor cuts them; EINTR retries against the same deadline.
/// <para>
/// Post, try-wait, drain and value have a fast path that works on glibc's sem_t directly, because a
/// P/Invoke costs more than the operation: on 64-bit glibc a process-shared semaphore is one 64-bit word,
/// the value in the low 32 bits and the number of sleeping waiters in the high 32 bits, and glibc's own
/// sem_post is "compare-and-swap value + 1; futex-wake if there were waiters". We do the same swap only
/// when no one waits and call libc otherwise, so every wake-up still goes through glibc. A self-check
/// against libc at first use turns the fast path off if the layout is ever different.
/// </para>
/// This is a mapped-memory type: glibc maps the semaphore's file (<c>/dev/shm/sem.NAME</c>) and the fast path reads and
/// swaps its word through a pointer.
/// </remarks>
internal sealed unsafe class NamedSemaphore : IDisposable
{
    private static bool s_clockWaitMissing;
    private static readonly bool s_fastPath = ProbeFastPath();
    private readonly ulong* _word;
    private readonly SafeSemaphoreHandle _handle;
    private readonly nint _semaphore;
    private int _disposed;

    private NamedSemaphore(string name, SafeSemaphoreHandle handle)
    {
        Name = name;
        _handle = handle;
        // The handle stays referenced (and so open) until Dispose releases it: the raw pointer below is used on hot paths.
        bool added = false;
        handle.DangerousAddRef(ref added);
        _semaphore = handle.DangerousGetHandle();
        _word = s_fastPath ? (ulong*)_semaphore : null;
    }

    /// <summary>Whether the glibc-layout fast path is in use in this process.</summary>
    internal static bool FastPath => s_fastPath;

    private static bool ProbeFastPath()
    {
        if (!BitConverter.IsLittleEndian || IntPtr.Size != 8 || !OperatingSystem.IsLinux())
        {
            return false;
        }
        string name = $"/zerolane-probe-{Environment.ProcessId}-{Environment.TickCount64}";
        using SafeSemaphoreHandle handle = Interop.Sys.SemOpen(name, Interop.Sys.OpenFlags.O_CREAT | Interop.Sys.OpenFlags.O_EXCL, 0b110_000_000, 0);
        if (handle.IsInvalid)
        {
            return false;
        }
        try
        {
            nint semaphore = handle.DangerousGetHandle();
            ulong* word = (ulong*)semaphore;
            bool ok = Volatile.Read(ref *word) == 0;
            ok &= Interop.Sys.SemPost(semaphore) == 0 && Interop.Sys.SemPost(semaphore) == 0 && Volatile.Read(ref *word) == 2;
            ok &= Interlocked.CompareExchange(ref *word, 1, 2) == 2;
            ok &= Interop.Sys.SemGetValue(semaphore, out int value) == 0 && value == 1;
            ok &= Interop.Sys.SemTryWait(semaphore) == 0 && Volatile.Read(ref *word) == 0;
            return ok;
        }
        finally
        {
            Interop.Sys.SemUnlink(name);
        }
    }

    /// <summary>The name as given to sem_open, with its leading slash.</summary>
    internal string Name { get; }

    /// <summary>Creates a semaphore with value 0; fails if the name exists.</summary>
    internal static NamedSemaphore CreateExclusive(string name, UnixFileMode mode)
    {
        SafeSemaphoreHandle handle = Interop.Sys.SemOpen(name, Interop.Sys.OpenFlags.O_CREAT | Interop.Sys.OpenFlags.O_EXCL, (uint)mode, 0);
        if (handle.IsInvalid)
        {
            Exception error = PosixError.Last("sem_open(create)", DevicePath(name));
            handle.Dispose();
            throw error;
        }
        var result = new NamedSemaphore(name, handle);
        try
        {
            // sem_open applies the umask; set the requested mode exactly (the name was just created exclusively).
            FileDescriptor.SetPermissions(DevicePath(name), mode);
            return result;
        }
        catch
        {
            result.Dispose();
            Unlink(name);
            throw;
        }
    }

    /// <summary>Opens an existing semaphore, or returns null when none has that name.</summary>
    internal static NamedSemaphore? TryOpen(string name)
    {
        SafeSemaphoreHandle handle = Interop.Sys.SemOpen(name, 0, 0, 0);
        if (handle.IsInvalid)
        {
            int errno = PosixError.LastErrno;
            handle.Dispose();
            if (errno == Interop.Errno.ENOENT)
            {
                return null;
            }
            throw PosixError.Create(errno, "sem_open", DevicePath(name));
        }
        return new NamedSemaphore(name, handle);
    }

    /// <summary>Removes the name; returns false if it did not exist.</summary>
    internal static bool Unlink(string name)
    {
        if (Interop.Sys.SemUnlink(name) == 0)
        {
            return true;
        }
        int errno = Interop.Errno.Last;
        if (errno == Interop.Errno.ENOENT)
        {
            return false;
        }
        throw PosixError.Create(errno, "sem_unlink", DevicePath(name));
    }

    /// <summary>Where glibc keeps a named semaphore: <c>/dev/shm/sem.</c> + the name without its slash.</summary>
    internal static string DevicePath(string name) => "/dev/shm/sem." + name.TrimStart('/');

    internal void Post()
    {
        if (_word is not null)
        {
            ulong current = Volatile.Read(ref *_word);
            // Only while nobody sleeps and far from SEM_VALUE_MAX; otherwise glibc does it (futex wake, EOVERFLOW).
            if ((current >> 32) == 0 && (uint)current < int.MaxValue && Interlocked.CompareExchange(ref *_word, current + 1, current) == current)
            {
                return;
            }
        }
        if (Interop.Sys.SemPost(_semaphore) != 0)
        {
            ThrowLast("sem_post");
        }
    }

    /// <summary>Sets the value to 0 and returns what it was; never blocks. Returns -1 when only libc can do it (no fast path).</summary>
    internal int Drain()
    {
        if (_word is null)
        {
            int drained = 0;
            while (drained < 1024 && TryWait())
            {
                drained++;
            }
            return drained;
        }
        while (true)
        {
            ulong current = Volatile.Read(ref *_word);
            uint value = (uint)current;
            if (value == 0 || Interlocked.CompareExchange(ref *_word, current - value, current) == current)
            {
                return (int)value;
            }
        }
    }

    /// <summary>Takes one unit if the value is above zero; never blocks.</summary>
    internal bool TryWait()
    {
        if (_word is not null)
        {
            while (true)
            {
                ulong current = Volatile.Read(ref *_word);
                if ((uint)current == 0)
                {
                    return false;
                }
                if (Interlocked.CompareExchange(ref *_word, current - 1, current) == current)
                {
                    return true;
                }
            }
        }
        if (Interop.Sys.SemTryWait(_semaphore) == 0)
        {
            return true;
        }
        int errno = Interop.Errno.Last;
        if (errno is Interop.Errno.EAGAIN or Interop.Errno.EINTR)
        {
            return false;
        }
        throw PosixError.Create(errno, "sem_trywait", DevicePath(Name));
    }

    internal int Value
    {
        get
        {
            if (_word is not null)
            {
                return (int)(uint)Volatile.Read(ref *_word);
            }
            if (Interop.Sys.SemGetValue(_semaphore, out int value) != 0)
            {
                ThrowLast("sem_getvalue");
            }
            return value;
        }
    }

    /// <summary>
    /// The address of the 32-bit value word (the futex glibc's sem_post wakes), for a waiter that sleeps on several words at
    /// once (see <see cref="FutexWaitList"/>); only with the <see cref="FastPath"/>.
    /// </summary>
    internal nint ValueAddress
    {
        get
        {
            EnsureFastPath();
            // Little-endian: the value is the low half, at the start of the 64-bit word.
            return (nint)_word;
        }
    }

    /// <summary>
    /// Counts one more sleeping waiter, as glibc's sem_wait does before it sleeps, so that sem_post (ours or a peer's) wakes
    /// the value word's futex. Pair with <see cref="RemoveWaiter"/>; only with the <see cref="FastPath"/>.
    /// </summary>
    internal void AddWaiter()
    {
        EnsureFastPath();
        Interlocked.Add(ref *_word, 1UL << 32);
    }

    /// <summary>Counts one sleeping waiter less (see <see cref="AddWaiter"/>).</summary>
    internal void RemoveWaiter()
    {
        EnsureFastPath();
        Interlocked.Add(ref *_word, unchecked(0UL - (1UL << 32)));
    }

    private void EnsureFastPath()
    {
        if (_word is null)
        {
            throw new InvalidOperationException("The semaphore's word is only used directly where glibc's layout was verified (FastPath).");
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for one unit. Returns false on timeout.</summary>
    internal bool Wait(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return TryWait();
        }
        if (!s_clockWaitMissing)
        {
            try
            {
                return ClockWait(timeout);
            }
            catch (EntryPointNotFoundException)
            {
                s_clockWaitMissing = true;
            }
        }
        return RealtimeWait(timeout);
    }

    private bool ClockWait(TimeSpan timeout)
    {
        Interop.Sys.TimeSpec deadline = Deadline(Interop.Sys.CLOCK_MONOTONIC, timeout);
        while (true)
        {
            if (Interop.Sys.SemClockWait(_semaphore, Interop.Sys.CLOCK_MONOTONIC, deadline) == 0)
            {
                return true;
            }
            int errno = Interop.Errno.Last;
            if (errno == Interop.Errno.ETIMEDOUT)
            {
                return false;
            }
            if (errno != Interop.Errno.EINTR)
            {
                throw PosixError.Create(errno, "sem_clockwait", DevicePath(Name));
            }
        }
    }

    private bool RealtimeWait(TimeSpan timeout)
    {
        Interop.Sys.TimeSpec deadline = Deadline(Interop.Sys.CLOCK_REALTIME, timeout);
        while (true)
        {
            if (Interop.Sys.SemTimedWait(_semaphore, deadline) == 0)
            {
                return true;
            }
            int errno = Interop.Errno.Last;
            if (errno == Interop.Errno.ETIMEDOUT)
            {
                return false;
            }
            if (errno != Interop.Errno.EINTR)
            {
                throw PosixError.Create(errno, "sem_timedwait", DevicePath(Name));
            }
        }
    }

    private static Interop.Sys.TimeSpec Deadline(int clock, TimeSpan timeout)
    {
        Interop.Sys.ClockGetTime(clock, out Interop.Sys.TimeSpec now);
        long totalNanoseconds = now.Nanoseconds + (long)(timeout.Ticks * 100);
        return new Interop.Sys.TimeSpec
        {
            Seconds = now.Seconds + totalNanoseconds / 1_000_000_000,
            Nanoseconds = totalNanoseconds % 1_000_000_000,
        };
    }

    private void ThrowLast(string operation) => throw PosixError.Last(operation, DevicePath(Name));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _handle.DangerousRelease();
            _handle.Dispose();
        }
    }
}
