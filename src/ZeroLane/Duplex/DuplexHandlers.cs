using System.Buffers;

namespace ZeroLane.Duplex;

/// <summary>
/// Answers one request of a <see cref="DuplexServer"/> with the bytes it returns, which the server copies into the
/// response frame. The request is read in place and stays valid until the response is written, so returning
/// <c>request.Span</c> (or a slice of it) echoes it with a single copy.
/// </summary>
/// <param name="request">The request frame, in place in shared memory; the server releases it, not the handler.</param>
/// <returns>The response: at least one byte (an empty response is answered as a failed request).</returns>
public delegate ReadOnlySpan<byte> DuplexRequestHandler(Frame request);

/// <summary>
/// Answers one request of a <see cref="DuplexServer"/> by writing the response in place into the response ring
/// (a loan of <see cref="DuplexServerOptions.ResponseLoanLength"/> bytes): no copy at all.
/// </summary>
/// <param name="request">The request frame, in place in shared memory; the server releases it, not the handler.</param>
/// <param name="response">Where the response is written; what was written when the handler returns is the response
/// (at least one byte, or the request is answered as failed). Valid only during the call.</param>
public delegate void DuplexLoanHandler(Frame request, IBufferWriter<byte> response);
