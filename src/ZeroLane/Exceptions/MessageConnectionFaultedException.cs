namespace ZeroLane;

/// <summary>
/// A <c>MessageSender</c> or <c>MessageReceiver</c> failed earlier (a send cancelled midway, a
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
