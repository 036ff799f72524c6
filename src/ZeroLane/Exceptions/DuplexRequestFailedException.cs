namespace ZeroLane;

/// <summary>
/// The server's handler failed one request (it threw, or its answer could not be sent) and the server said so in an
/// error response: this request has no answer, but the channel and every other request are unaffected. Raised where the
/// two ends can carry errors apart from answers (ZeroLane's extended duplex mode, calls over sockets); towards a
/// reference-mode client a failure is a <see cref="Duplex.DuplexFailure"/> frame instead.
/// </summary>
public sealed class DuplexRequestFailedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened and what to do, for a person.</param>
    /// <param name="remoteError">The server's text for the failure, "ExceptionType: message".</param>
    public DuplexRequestFailedException(string message, string remoteError) : base(message)
    {
        RemoteError = remoteError;
    }

    /// <summary>The server's text for the failure: "ExceptionType: message" of what its handler threw.</summary>
    public string RemoteError { get; }
}
