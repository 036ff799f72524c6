namespace ZeroLane;

/// <summary>
/// Base type of the exceptions ZeroLane throws for corruption, peer failures and misuse specific to its objects. Every
/// one lives in this namespace; each message says what happened and what to do.
/// </summary>
public class ZeroLaneException : Exception
{
    /// <summary>Creates the exception with a message that says what happened and what to do.</summary>
    public ZeroLaneException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public ZeroLaneException(string message, Exception? inner) : base(message, inner)
    {
    }
}
