using System.Collections.Concurrent;
using ZeroLane.Posix;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// Made-up processes inside this one, so that a property test can let a participant "die" between two steps without a
/// child process: each has this process's PID and a start time of its own, and is alive until <see cref="Kill"/>.
/// </summary>
/// <remarks>
/// Design: participants get a <see cref="Platform"/> that records the made-up identity in shared memory and answers
/// liveness questions about made-up identities from the table here (everything else goes to the real platform). A killed
/// participant must then do nothing more, as a dead process would: the test stops calling it, and disposes it only after
/// every publisher it joined has closed its segment (a closed segment is never written by a leaving subscriber).
/// Identities checked with start time 0 (PID only, as the stale-object cleaner does) are this process and stay alive, so
/// nothing of a made-up process is removed by name: the test disposes it.
/// </remarks>
internal sealed class SimulatedProcesses
{
    private static readonly IIpcPlatform s_real = IpcPlatform.Current;

    // Start times far above any real one (clock ticks since boot), unique per made-up process.
    private static long s_nextStartTime = 1L << 48;

    private readonly ConcurrentDictionary<ulong, bool> _alive = new();

    /// <summary>A platform for a new made-up process, alive until killed.</summary>
    internal Platform Spawn()
    {
        var identity = new ProcessIdentity(Environment.ProcessId, (ulong)Interlocked.Increment(ref s_nextStartTime));
        _alive[identity.StartTime] = true;
        return new Platform(this, identity);
    }

    /// <summary>A platform for this real process that knows the made-up ones (for a publisher that must see them die).</summary>
    internal Platform Real() => new(this, s_real.CurrentProcess);

    /// <summary>From now on the made-up process reads as dead.</summary>
    internal void Kill(ProcessIdentity identity) => _alive[identity.StartTime] = false;

    private bool IsAlive(ProcessIdentity process) =>
        process.Pid == Environment.ProcessId && _alive.TryGetValue(process.StartTime, out bool alive) ? alive : s_real.IsAlive(process);

    internal sealed class Platform(SimulatedProcesses processes, ProcessIdentity self) : DelegatingIpcPlatform(s_real)
    {
        public override ProcessIdentity CurrentProcess => self;

        public override bool IsAlive(ProcessIdentity process) => processes.IsAlive(process);
    }
}
