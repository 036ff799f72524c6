namespace ZeroLane;

/// <summary>A live reader already owns a buffer of that name; a buffer has exactly one reader.</summary>
public sealed class ReaderAlreadyConnectedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public ReaderAlreadyConnectedException(string message) : base(message)
    {
    }
}
