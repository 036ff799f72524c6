using System.Net.Sockets;

namespace ZeroLane;

/// <summary>
/// The connection broke (reset by the peer, the peer gone while sending, a network failure).
/// <see cref="SocketError"/> says which; the connection cannot be used any more and should be disposed.
/// </summary>
public sealed class MessageConnectionException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageConnectionException(string message, SocketError socketError, Exception? inner = null) : base(message, inner)
    {
        SocketError = socketError;
    }

    /// <summary>The socket error that broke the connection.</summary>
    public SocketError SocketError { get; }
}
