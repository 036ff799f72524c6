namespace ZeroLane;

/// <summary>
/// A duplex service refused a client's request to join: it serves its maximum of clients
/// (<c>DuplexServiceOptions.MaxClients</c>), or it could not create the client's request ring. The message carries the
/// service's reason.
/// </summary>
public sealed class DuplexServiceRefusedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public DuplexServiceRefusedException(string message) : base(message)
    {
    }
}
