namespace ZeroLane;

/// <summary>No buffer of that name exists (or it is still being created): start the reader first.</summary>
public sealed class BufferNotFoundException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public BufferNotFoundException(string message) : base(message)
    {
    }
}
