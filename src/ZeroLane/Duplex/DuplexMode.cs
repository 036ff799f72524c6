namespace ZeroLane.Duplex;

/// <summary>
/// What a duplex channel's two ends speak (PROTOCOL.md 14.2 and 14.5). Each end offers a mode in its options; a session
/// uses <see cref="Extended"/> only when both ends offer it, and <see cref="Reference"/> otherwise.
/// </summary>
public enum DuplexMode
{
    /// <summary>
    /// ZeroBuffer's reference wire format: a response is exactly the response bytes, answered strictly in order, one
    /// request at a time; a failure is a <see cref="DuplexFailure"/> frame.
    /// </summary>
    Reference = 0,

    /// <summary>
    /// ZeroLane to ZeroLane: each response carries its request's sequence number and an answer/error status in a 16-byte
    /// header, so requests may be handled concurrently and answered out of order, responses may be empty, and a failed
    /// request raises <see cref="DuplexRequestFailedException"/> on the client.
    /// </summary>
    Extended = 1,
}
