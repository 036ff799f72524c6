namespace ZeroLane;

/// <summary>The segment was written by an incompatible protocol version.</summary>
public sealed class IncompatibleBufferException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public IncompatibleBufferException(string message) : base(message)
    {
    }
}
