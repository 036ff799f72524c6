using System.Net.Sockets;

namespace ZeroLane.Messages.Transport;

/// <summary>The one place where a socket errno or <see cref="SocketException"/> becomes a transport exception.</summary>
internal static class SocketErrors
{
    private const int EPIPE = 32;
    private const int ECONNABORTED = 103;
    private const int ECONNRESET = 104;
    private const int ENOTCONN = 107;
    private const int ETIMEDOUT = 110;
    private const int EBADF = 9;

    internal static SocketError FromErrno(int errno) => errno switch
    {
        EPIPE => SocketError.Shutdown,
        ECONNRESET => SocketError.ConnectionReset,
        ECONNABORTED => SocketError.ConnectionAborted,
        ENOTCONN => SocketError.NotConnected,
        ETIMEDOUT => SocketError.TimedOut,
        EBADF => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };

    internal static MessageConnectionException Send(int errno) =>
        new($"Sending failed: {Interop.Errno.Describe(errno)} (errno {errno}, {FromErrno(errno)}). The peer closed or reset the connection, or the network failed; dispose this connection.",
            FromErrno(errno), new SocketException((int)FromErrno(errno)));

    internal static MessageConnectionException Wrap(SocketException exception, string operation) =>
        new($"{operation} failed: {exception.Message} ({exception.SocketErrorCode}). The peer reset the connection or the network failed; dispose this connection.",
            exception.SocketErrorCode, exception);

    internal static MessageConnectionFaultedException Faulted(string side, Exception cause) =>
        new($"The {side} of this connection failed earlier ({cause.GetType().Name}: {cause.Message}) and can no longer find frame boundaries. Dispose the connection and open a new one.", cause);
}
