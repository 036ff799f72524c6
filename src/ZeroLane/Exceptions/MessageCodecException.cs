namespace ZeroLane;

/// <summary>A message's body or parts do not hold a valid value of the type a codec reads.</summary>
public sealed class MessageCodecException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageCodecException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public MessageCodecException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
