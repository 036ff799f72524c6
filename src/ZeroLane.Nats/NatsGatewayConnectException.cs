namespace ZeroLane;

/// <summary>
/// A gateway could not connect to NATS: no server reachable within <see cref="Nats.NatsEndpoint.ConnectTimeout"/>, credentials
/// refused, a failed TLS handshake, or an unreadable credentials file. The message is one line saying what happened and
/// what to do; <see cref="Exception.InnerException"/> holds NATS.Net's own error when there is one. In namespace
/// <c>ZeroLane</c> with every other ZeroLane exception, though it ships in the ZeroLane.Nats package.
/// </summary>
public sealed class NatsGatewayConnectException : ZeroLaneException
{
    /// <summary>Creates the exception with a one-line message that says what happened and what to do.</summary>
    public NatsGatewayConnectException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
