using ZeroLane.Messages;
using System.Buffers;

namespace ZeroLane.Duplex;

/// <summary>
/// Answers one request of a <see cref="DuplexServer"/> with the bytes it returns, which the server copies into the
/// response frame. The request is read in place and stays valid until the response is written, so returning
/// <c>request.Span</c> (or a slice of it) echoes it with a single copy.
/// </summary>
/// <param name="request">The request frame, in place in shared memory; the server releases it, not the handler.</param>
/// <returns>The response. In the reference mode at least one byte (an empty response is answered as a failed request).</returns>
public delegate ReadOnlySpan<byte> DuplexRequestHandler(Frame request);

/// <summary>
/// Answers one request of a <see cref="DuplexServer"/> by writing the response in place into the response ring
/// (a loan of <see cref="DuplexServerOptions.ResponseLoanLength"/> bytes): no copy at all.
/// </summary>
/// <param name="request">The request frame, in place in shared memory; the server releases it, not the handler.</param>
/// <param name="response">Where the response is written; what was written when the handler returns is the response
/// (in the reference mode at least one byte, or the request is answered as failed). Valid only during the call.</param>
/// <remarks>
/// A ring has one loan open at a time, so with <see cref="DuplexServerOptions.MaxConcurrency"/> above 1 these handlers
/// still write one at a time: prefer another handler shape when the work is long and should overlap.
/// </remarks>
public delegate void DuplexLoanHandler(Frame request, IBufferWriter<byte> response);

/// <summary>
/// Answers one request of a <see cref="DuplexServer"/> by changing the request's bytes in place, in shared memory, and
/// sending back the first bytes of the result with one copy (mutable processing: a tile filtered in place, a frame
/// annotated).
/// </summary>
/// <param name="request">The request frame; the server releases it, not the handler.</param>
/// <param name="data">The request's bytes, writable in place (they are the request ring's memory; the client never
/// reads them again). Valid only during the call.</param>
/// <returns>How many leading bytes of <paramref name="data"/> are the response: 0 to <c>data.Length</c> (in the
/// reference mode at least 1).</returns>
public delegate int DuplexInPlaceHandler(Frame request, Span<byte> data);

/// <summary>
/// Answers one request of a <see cref="DuplexServer"/> with a <see cref="Message"/> (a body plus parts), which the server
/// encodes into the response frame (each segment copied once, PROTOCOL.md section 9) and then disposes. A client reads it
/// with <see cref="FrameMessages.DecodeFrame"/> or <see cref="FrameMessages.ViewFrame"/>.
/// </summary>
/// <param name="request">The request frame, in place in shared memory; the server releases it, not the handler.</param>
public delegate Message DuplexMessageHandler(Frame request);

/// <summary>
/// The asynchronous form of <see cref="DuplexRequestHandler"/>: the response's memory must stay valid until the returned
/// task completes, and the request frame stays valid until then too.
/// </summary>
/// <param name="request">The request frame, in place in shared memory; the server releases it after the response is written.</param>
/// <param name="cancellationToken">Cancelled when the server's stop outlives its timeout: give up then.</param>
public delegate ValueTask<ReadOnlyMemory<byte>> DuplexAsyncRequestHandler(Frame request, CancellationToken cancellationToken);

/// <summary>The asynchronous form of <see cref="DuplexMessageHandler"/>; the server disposes the message once written.</summary>
/// <param name="request">The request frame, in place in shared memory; the server releases it after the response is written.</param>
/// <param name="cancellationToken">Cancelled when the server's stop outlives its timeout: give up then.</param>
public delegate ValueTask<Message> DuplexAsyncMessageHandler(Frame request, CancellationToken cancellationToken);
