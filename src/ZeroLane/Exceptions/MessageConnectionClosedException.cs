namespace ZeroLane;

/// <summary>
/// The peer closed the connection between two messages while more were expected (<c>ReceiveAsync</c> was asked for one
/// more; <c>TryReceiveAsync</c> returns <c>ReceiveStatus.EndOfStream</c> instead).
/// </summary>
public sealed class MessageConnectionClosedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageConnectionClosedException()
        : base("The peer closed the connection: no more messages will arrive. Use TryReceiveAsync to get ReceiveStatus.EndOfStream at the end of the stream instead of this exception.")
    {
    }

    /// <summary>Creates the exception with a message that says what the end of the stream cut short.</summary>
    public MessageConnectionClosedException(string message) : base(message)
    {
    }
}
