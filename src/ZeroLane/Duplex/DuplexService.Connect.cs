using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Duplex;

public sealed partial class DuplexService
{
    /// <summary>
    /// Joins duplex service <paramref name="name"/>: waits at most <paramref name="timeout"/> for the service to run and
    /// to admit this client, and returns a <see cref="DuplexClient"/> connected to the client's own channel
    /// (<c>zls.NAME.c.PID.ID</c>). Dispose it to leave; the service then removes the channel's request ring.
    /// </summary>
    /// <remarks>
    /// The client's response ring is created with <paramref name="options"/>'s <c>ResponseRing</c>, whose lock directory
    /// must be the service's (<c>DuplexServiceOptions.Server.RequestRing.LockDirectory</c>), as for any two ends of a ring.
    /// The waits are woken by the /dev/shm watch; the service's liveness is looked at every
    /// <see cref="Buffers.ReaderOptions.PeerCheckInterval"/> of the response ring. The client does not reconnect
    /// (<see cref="DuplexClientOptions.Reconnect"/> is ignored): once the service is gone, its calls fail with
    /// <see cref="DuplexServerGoneException"/>; dispose it and join again.
    /// </remarks>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="DuplexServiceNotFoundException">No live service of that name appeared within the timeout.</exception>
    /// <exception cref="DuplexServiceRefusedException">The service refused this client (it serves its maximum of clients).</exception>
    /// <exception cref="DuplexServerGoneException">The service stopped or died while this client joined.</exception>
    /// <exception cref="TimeoutException">The service runs but did not admit this client within the timeout.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static DuplexClient Connect(string name, TimeSpan timeout, DuplexClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        DuplexServiceNames names = DuplexServiceNames.Create(name);
        // A client's channel belongs to one service's life: after the service went, a new one admits the client only
        // if it joins again, so waiting for its request ring to come back would be waiting in vain.
        options = (options ?? new DuplexClientOptions()) with { Reconnect = false };
        options.Validate();
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "Must be zero or more, or infinite.");
        }
        IIpcPlatform platform = IpcPlatform.Current;
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        TimeSpan check = options.ResponseRing.PeerCheckInterval;
        using var wake = new AutoResetEvent(false);

        // 1. A live service: its file appears (watch) and records a live process.
        using (SharedMemoryWatch.Watch(Path.GetFileName(names.ServicePath), () => Signal(wake)))
        {
            while (DuplexServiceFile.Check(platform, names.ServicePath) != DuplexServiceState.Alive)
            {
                if (Environment.TickCount64 >= deadline)
                {
                    throw new DuplexServiceNotFoundException(
                        $"No duplex service '{name}' runs on this host (no live {names.ServicePath}){Within(timeout)}. Start it " +
                        "(new DuplexService(name, handler)), check the name (zerolane topics lists the services), or wait longer.");
                }
                Wait(wake, deadline, check, cancellationToken);
            }
        }

        // 2. Ask to join: a join file of our own, locked while we join.
        string channel = names.Channel(Environment.ProcessId, DuplexServiceNames.NewId());
        string joinPath = DuplexServiceNames.JoinPath(channel);
        using FileLock join = platform.TryAcquireLock(joinPath, options.ResponseRing.Permissions)
            ?? throw new IOException($"The join file '{joinPath}' is locked by another process; try again.");

        // 3. Admitted: the service created our request ring. Then connect as to any channel.
        string requestRing = DuplexNames.Request(channel);
        using (SharedMemoryWatch.Watch(requestRing, () => Signal(wake)))
        {
            while (!File.Exists(DuplexServiceNames.SharedMemoryPath(requestRing)))
            {
                if (DuplexServiceFile.ReadRefusal(joinPath) is { } reason)
                {
                    throw new DuplexServiceRefusedException($"The {reason}");
                }
                DuplexServiceState state = DuplexServiceFile.Check(platform, names.ServicePath);
                if (state != DuplexServiceState.Alive)
                {
                    throw new DuplexServerGoneException(
                        $"Duplex service '{name}' {(state == DuplexServiceState.Dead ? "died" : "stopped")} while this client was joining it. " +
                        "Join again once the service runs.",
                        crashed: state == DuplexServiceState.Dead);
                }
                if (Environment.TickCount64 >= deadline)
                {
                    throw new TimeoutException(
                        $"Duplex service '{name}' runs but did not admit this client{Within(timeout)}: it may be stuck. " +
                        "Look at its process, or wait longer.");
                }
                Wait(wake, deadline, check, cancellationToken);
            }
        }
        TimeSpan remaining = deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
        // The response ring exists before the join file goes (disposing `join` removes it), so the service always sees
        // this client in one of the two.
        return DuplexClient.Connect(channel, remaining, options, cancellationToken);
    }

    private static string Within(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan ? "" : $" within {timeout}";

    /// <summary>Waits for the watch, at most one check interval, never past the deadline.</summary>
    private static void Wait(AutoResetEvent wake, long deadline, TimeSpan check, CancellationToken cancellationToken)
    {
        long left = deadline == long.MaxValue ? long.MaxValue : Math.Max(0, deadline - Environment.TickCount64);
        int slice = (int)Math.Min(left, (long)check.TotalMilliseconds);
        WaitHandle.WaitAny([wake, cancellationToken.WaitHandle], Math.Max(slice, 1));
        cancellationToken.ThrowIfCancellationRequested();
    }
}
