namespace ZeroLane.Duplex;

/// <summary>How a <see cref="DuplexService"/> serves its clients.</summary>
public sealed record DuplexServiceOptions
{
    /// <summary>
    /// How each client's channel is served: the request ring the service creates per client (sizes, permissions, lock
    /// directory, and the peer-check interval, which also paces the service's checks of its clients), the response
    /// writer, timeouts. The service file and the refusals it writes get <c>Server.RequestRing.Permissions</c> too.
    /// </summary>
    public DuplexServerOptions Server { get; init; } = new();

    /// <summary>
    /// The most clients served at once (each has two rings); a client that asks to join beyond it is refused with
    /// <see cref="DuplexServiceRefusedException"/>. Default 64.
    /// </summary>
    public int MaxClients { get; init; } = 64;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Server, nameof(Server));
        Server.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxClients, nameof(MaxClients));
    }
}
