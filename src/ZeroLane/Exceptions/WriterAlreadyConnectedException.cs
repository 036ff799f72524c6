namespace ZeroLane;

/// <summary>A writer is already connected to the buffer; a buffer has exactly one writer at a time.</summary>
public sealed class WriterAlreadyConnectedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public WriterAlreadyConnectedException(string message) : base(message)
    {
    }
}
