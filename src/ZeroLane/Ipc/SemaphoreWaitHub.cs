using System.Diagnostics;
using System.Runtime.InteropServices;
using ZeroLane.Posix;

namespace ZeroLane.Ipc;

/// <summary>
/// The process-wide threads that sleep on the semaphores of pending <see cref="AsyncSemaphoreWait"/>s: each worker sleeps
/// on up to <see cref="Worker.MaxWaits"/> semaphores at once with futex_waitv, so asynchronous waits of many endpoints share
/// a few threads instead of holding one each. Null (<see cref="Instance"/>) where futex_waitv or glibc's semaphore layout is
/// not available, or when <c>ZEROLANE_ASYNC_WAIT=threads</c>: then each endpoint waits on a thread of its own.
/// </summary>
/// <remarks>
/// Design: a worker registers as a sleeping waiter of each semaphore the way glibc's sem_wait does (the waiter count in
/// the semaphore's word), so that sem_post, ours or a peer's, wakes the value word's futex, and then sleeps on every value
/// word (expecting 0) plus a private control word. A post wakes it, a value already above zero makes the sleep return at
/// once, and adding or removing a wait bumps and wakes the control word. A worker reads and changes its registrations, and
/// touches their semaphores, only under its lock and never during the sleep; <see cref="Remove"/> takes that lock and
/// bumps the control word before it returns, so once it has, the worker never touches that semaphore again and its owner
/// may unmap it. (A sleep already under way on an address unmapped meanwhile ends with EFAULT or at the control word; the
/// kernel never writes to the words.)
/// </remarks>
internal sealed class SemaphoreWaitHub
{
    private readonly object _sync = new();
    private readonly List<Worker> _workers = new();

    /// <summary>The hub, or null where waits fall back to a thread per endpoint.</summary>
    internal static SemaphoreWaitHub? Instance { get; } = Create();

    /// <summary>Worker threads started so far (each serves up to <see cref="Worker.MaxWaits"/> waits at a time).</summary>
    internal int WorkerCount
    {
        get
        {
            lock (_sync)
            {
                return _workers.Count;
            }
        }
    }

    private static SemaphoreWaitHub? Create() =>
        Environment.GetEnvironmentVariable("ZEROLANE_ASYNC_WAIT") != "threads" && NamedSemaphore.FastPath && FutexWaitList.IsSupported
            ? new SemaphoreWaitHub()
            : null;

    /// <summary>Starts sleeping on <paramref name="wait"/>'s semaphore until it is posted or its deadline passes.</summary>
    internal void Add(AsyncSemaphoreWait wait)
    {
        Worker? chosen = null;
        lock (_sync)
        {
            foreach (Worker worker in _workers)
            {
                if (worker.TryReserve())
                {
                    chosen = worker;
                    break;
                }
            }
            if (chosen is null)
            {
                chosen = new Worker(_workers.Count);
                chosen.TryReserve();
                _workers.Add(chosen);
            }
        }
        chosen.Add(wait);
    }

    /// <summary>Stops sleeping on <paramref name="wait"/>'s semaphore; once this returns no worker touches it again.</summary>
    internal static void Remove(AsyncSemaphoreWait wait)
    {
        // The worker is set when the wait is added (which happened before anyone can remove it) and cleared under the
        // worker's lock when it leaves, so a null read means it already left.
        while (Volatile.Read(ref wait.WorkerField) is Worker worker)
        {
            if (worker.Remove(wait))
            {
                return;
            }
        }
    }

    /// <summary>One thread sleeping on up to <see cref="MaxWaits"/> semaphores and its own control word.</summary>
    internal sealed class Worker
    {
        /// <summary>Semaphores one futex_waitv sleeps on: its capacity less the control word.</summary>
        internal const int MaxWaits = FutexWaitList.Capacity - 1;

        private readonly object _sync = new();
        private readonly List<AsyncSemaphoreWait> _waits = new(MaxWaits);
        // The control word: a pinned int, so its address stays valid for the kernel.
        private readonly int[] _control = GC.AllocateArray<int>(1, pinned: true);
        private readonly nint _controlAddress;
        private int _reserved;

        internal Worker(int index)
        {
            _controlAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_control, 0);
            new Thread(Run) { IsBackground = true, Name = $"ZeroLane async waits {index}" }.Start();
        }

        /// <summary>Takes a place for one more wait; false when full. Under the hub's lock.</summary>
        internal bool TryReserve()
        {
            if (_reserved == MaxWaits)
            {
                return false;
            }
            Interlocked.Increment(ref _reserved);
            return true;
        }

        internal void Add(AsyncSemaphoreWait wait)
        {
            lock (_sync)
            {
                wait.Semaphore!.AddWaiter();
                Volatile.Write(ref wait.WorkerField, this);
                _waits.Add(wait);
            }
            Wake();
        }

        /// <summary>Takes <paramref name="wait"/> out; false if it is not (or no longer) this worker's.</summary>
        internal bool Remove(AsyncSemaphoreWait wait)
        {
            lock (_sync)
            {
                int index = _waits.IndexOf(wait);
                if (index < 0)
                {
                    return false;
                }
                RemoveAtUnsynchronized(index);
            }
            Wake();
            return true;
        }

        private void RemoveAtUnsynchronized(int index)
        {
            AsyncSemaphoreWait wait = _waits[index];
            wait.Semaphore!.RemoveWaiter();
            Volatile.Write(ref wait.WorkerField, null);
            _waits[index] = _waits[^1];
            _waits.RemoveAt(_waits.Count - 1);
            Interlocked.Decrement(ref _reserved);
        }

        private void Wake()
        {
            Interlocked.Increment(ref _control[0]);
            FutexWaitList.Wake(_controlAddress);
        }

        private void Run()
        {
            var list = new FutexWaitList();
            while (true)
            {
                long earliest = long.MaxValue;
                lock (_sync)
                {
                    // Read before the semaphores: a change after this read makes the sleep below return at once.
                    int control = Volatile.Read(ref _control[0]);
                    long now = Stopwatch.GetTimestamp();
                    for (int i = _waits.Count - 1; i >= 0; i--)
                    {
                        AsyncSemaphoreWait wait = _waits[i];
                        bool posted = wait.Semaphore!.Value != 0;
                        if (posted || now >= wait.Deadline)
                        {
                            RemoveAtUnsynchronized(i);
                            // Continuations run on the thread pool, never here.
                            wait.TryComplete(posted);
                            continue;
                        }
                        earliest = Math.Min(earliest, wait.Deadline);
                    }
                    list.Clear();
                    list.Add(_controlAddress, (uint)control, processPrivate: true);
                    foreach (AsyncSemaphoreWait wait in _waits)
                    {
                        // Expect 0: a post since the check above makes the sleep return at once.
                        list.Add(wait.Semaphore!.ValueAddress, 0, processPrivate: false);
                    }
                }
                TimeSpan timeout = earliest == long.MaxValue
                    ? TimeSpan.FromDays(1)
                    : TimeSpan.FromTicks(Math.Max(0, (earliest - Stopwatch.GetTimestamp()) * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                if (timeout > TimeSpan.Zero)
                {
                    list.Wait(timeout);
                }
            }
        }
    }
}
