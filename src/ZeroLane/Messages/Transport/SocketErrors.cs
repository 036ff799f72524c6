using System.Net.Sockets;

namespace ZeroLane.Messages.Transport;

/// <summary>The one place where a <see cref="SocketException"/> becomes a transport exception.</summary>
internal static class SocketErrors
{
    internal static MessageConnectionException Wrap(SocketException exception, string operation) =>
        new($"{operation} failed: {exception.Message} ({exception.SocketErrorCode}). The peer closed or reset the connection, or the network failed; dispose this connection.",
            exception.SocketErrorCode, exception);

    internal static MessageConnectionFaultedException Faulted(string side, Exception cause) =>
        new($"The {side} of this connection failed earlier ({cause.GetType().Name}: {cause.Message}) and can no longer find message boundaries. Dispose the connection and open a new one.", cause);
}
