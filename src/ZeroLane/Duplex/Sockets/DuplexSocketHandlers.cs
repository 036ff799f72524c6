using ZeroLane.Messages;

namespace ZeroLane.Duplex;

/// <summary>
/// Answers one request of a <see cref="DuplexSocketServer"/>, asynchronously. Several run at the same time (up to
/// <see cref="DuplexSocketServerOptions.MaxConcurrency"/> per connection), so it must be safe to call concurrently.
/// </summary>
/// <param name="request">The request: its body and parts are slices of the buffer it was received into (no copy), valid
/// until the server disposes it, after the response was sent. The handler does not dispose it.</param>
/// <param name="cancellationToken">Cancelled when the server stops and the stop timeout has passed.</param>
/// <returns>The response, which the server sends and then disposes (returning <paramref name="request"/> itself, or a
/// message built over its memory, echoes it without a copy). A handler that throws (or returns null) fails this request
/// only: the client gets a <see cref="DuplexRequestFailedException"/> with "ExceptionType: message".</returns>
public delegate ValueTask<Message> DuplexAsyncSocketHandler(Message request, CancellationToken cancellationToken);

/// <summary>
/// Answers one request of a <see cref="DuplexSocketServer"/> on a thread-pool thread; otherwise as
/// <see cref="DuplexAsyncSocketHandler"/>.
/// </summary>
/// <param name="request">The request, valid until the server disposes it after sending the response.</param>
/// <returns>The response, which the server sends and then disposes.</returns>
public delegate Message DuplexSocketHandler(Message request);
