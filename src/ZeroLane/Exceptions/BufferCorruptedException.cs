namespace ZeroLane;

/// <summary>The shared memory does not hold a valid ZeroBuffer v1 buffer, or a value in it is impossible.</summary>
public sealed class BufferCorruptedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public BufferCorruptedException(string message) : base(message)
    {
    }
}
