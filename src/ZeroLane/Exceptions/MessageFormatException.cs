namespace ZeroLane;

/// <summary>An encoded message is malformed, truncated or larger than its limits allow (see <c>MessageEncoding</c>).</summary>
public sealed class MessageFormatException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageFormatException(string message) : base(message)
    {
    }
}
