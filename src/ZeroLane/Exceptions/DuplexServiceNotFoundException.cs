namespace ZeroLane;

/// <summary>
/// No live duplex service of the name a client asked to join appeared within its timeout (no live
/// <c>/dev/shm/zls.NAME.service</c>).
/// </summary>
public sealed class DuplexServiceNotFoundException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public DuplexServiceNotFoundException(string message) : base(message)
    {
    }
}
