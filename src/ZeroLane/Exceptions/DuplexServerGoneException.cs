namespace ZeroLane;

/// <summary>
/// The server of a duplex channel is gone (it died, or it stopped or ended this client's session), so the requests
/// still pending will never be answered.
/// </summary>
public sealed class DuplexServerGoneException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public DuplexServerGoneException(string message, bool crashed) : base(message)
    {
        Crashed = crashed;
    }

    /// <summary>True if the server died without disconnecting (killed, crashed); false if it disconnected.</summary>
    public bool Crashed { get; }
}
