namespace ZeroLane;

/// <summary>
/// A duplex channel's response carried another sequence number than the oldest request waiting for its answer: the
/// server does not answer every request exactly once and in order, so no later response can be trusted to belong
/// to its request.
/// </summary>
public sealed class DuplexSequenceMismatchException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public DuplexSequenceMismatchException(string message, ulong expected, ulong received) : base(message)
    {
        Expected = expected;
        Received = received;
    }

    /// <summary>The sequence number of the oldest request waiting for its answer.</summary>
    public ulong Expected { get; }

    /// <summary>The sequence number the response frame carried.</summary>
    public ulong Received { get; }
}
