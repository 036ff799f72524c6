namespace ZeroLane;

/// <summary>The reader of the buffer is gone (it died or disposed the buffer): nothing more can be delivered.</summary>
public sealed class ReaderGoneException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public ReaderGoneException(string message) : base(message)
    {
    }
}
