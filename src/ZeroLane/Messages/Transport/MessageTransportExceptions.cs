using System.Net.Sockets;

namespace ZeroLane.Messages.Transport;

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

/// <summary>
/// The stream ended inside a frame: the peer closed (or crashed) after sending part of a message. Nothing of
/// the partial message is returned; the connection is finished.
/// </summary>
public sealed class MessageStreamTruncatedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageStreamTruncatedException(long bytesReceived, long? frameLength)
        : base(frameLength is long length
            ? $"The stream ended {bytesReceived} bytes into a frame of {length} bytes (prefix included): the peer closed or crashed in the middle of a message."
            : $"The stream ended after {bytesReceived} of the 8 bytes of a frame's length prefix: the peer closed or crashed in the middle of a message.")
    {
        BytesReceived = bytesReceived;
        FrameLength = frameLength;
    }

    /// <summary>Bytes of the unfinished frame that arrived, prefix included.</summary>
    public long BytesReceived { get; }

    /// <summary>Whole size of the unfinished frame (prefix included), or null if the prefix itself was cut.</summary>
    public long? FrameLength { get; }
}

/// <summary>
/// The peer closed the connection between two messages and <c>ReceiveAsync</c> was asked for one more.
/// Use <c>TryReceiveAsync</c> to get <see langword="null"/> instead.
/// </summary>
public sealed class MessageConnectionClosedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageConnectionClosedException()
        : base("The peer closed the connection: no more messages will arrive. Use TryReceiveAsync to get null at the end of the stream instead of this exception.")
    {
    }
}

/// <summary>
/// A <see cref="FrameWriter"/> or <see cref="FrameReader"/> failed earlier (a send cancelled midway, a
/// broken connection, a malformed or truncated frame), so the byte stream no longer lines up with frame
/// boundaries. <see cref="Exception.InnerException"/> is the original failure. Close the connection and open
/// a new one.
/// </summary>
public sealed class MessageConnectionFaultedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageConnectionFaultedException(string message, Exception? inner) : base(message, inner)
    {
    }
}
