namespace ZeroLane.Duplex;

/// <summary>A duplex service as <see cref="DuplexServiceInspector"/> finds it in /dev/shm.</summary>
/// <param name="Name">The service's name.</param>
/// <param name="Pid">The service's process ID as its service file records it; 0 if there is no (complete) service file.</param>
/// <param name="Alive">True if the recorded process runs; false for a service that died (its files are stale) or is gone.</param>
/// <param name="Clients">The service's clients: those admitted (their request ring exists) and those joining.</param>
public sealed record DuplexServiceInfo(string Name, int Pid, bool Alive, IReadOnlyList<DuplexServiceClientInfo> Clients)
{
    /// <summary>Clients admitted (each has its own channel), joining ones not counted.</summary>
    public int ClientCount => Clients.Count(c => !c.Joining);
}
