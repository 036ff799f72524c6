namespace ZeroLane;

/// <summary>The writer of the buffer is gone and every frame it committed has been read.</summary>
public sealed class WriterGoneException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public WriterGoneException(string message, bool crashed) : base(message)
    {
        Crashed = crashed;
    }

    /// <summary>True if the writer died without disconnecting; false if it disconnected.</summary>
    public bool Crashed { get; }
}
