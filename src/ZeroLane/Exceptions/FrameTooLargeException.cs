namespace ZeroLane;

/// <summary>A frame can never fit in the buffer's payload block.</summary>
public sealed class FrameTooLargeException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public FrameTooLargeException(string message) : base(message)
    {
    }
}
