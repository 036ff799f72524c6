using System.Security.Authentication;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Duplex;

/// <summary>
/// Answers requests from <see cref="DuplexSocketClient"/>s over message streams (TCP, Unix sockets, TLS): it accepts
/// connections on a <see cref="MessageListener"/> (or serves one <see cref="MessageConnection"/>), reads each
/// connection's requests and answers every one with the response message its handler returns, under the request's
/// correlation id (PROTOCOL.md section 15).
/// </summary>
/// <remarks>
/// Design: one accept loop, and per connection one reading loop that hands each request to the handler on the thread
/// pool, up to <see cref="DuplexSocketServerOptions.MaxConcurrency"/> at a time; answers go out as handlers finish (out
/// of order), one send at a time, each whole. The reading loop stops reading while that many requests are in progress,
/// so a client cannot make the server hold more. Requests and responses are never copied: a request's body and parts
/// are slices of its receive buffer, and a response's body and parts go to the socket in place.
/// <para>
/// A handler that throws fails its request only: the client's call throws <see cref="DuplexRequestFailedException"/>
/// with "ExceptionType: message"; other requests and the connection go on. A request the server cannot read (larger
/// than <see cref="DuplexSocketServerOptions.Limits"/>, malformed, or not a duplex request) ends that connection: the
/// server finishes the requests in progress, sends a goodbye that says why and closes it.
/// </para>
/// <para>
/// Stopping (<see cref="StopAsync"/>, <see cref="Dispose"/>): the server stops accepting and reading, lets the requests
/// in progress finish within the timeout (then cancels their handlers' token), sends their answers, says goodbye on every
/// connection (the clients' pending calls then fail with <see cref="DuplexServerGoneException"/>, not crashed) and
/// closes them. Requests a client sent that the server had not read yet are not answered.
/// </para>
/// </remarks>
public sealed class DuplexSocketServer : IAsyncDisposable, IDisposable
{
    /// <summary>How long one TLS handshake may take before the accept loop drops that client and goes on.</summary>
    internal static readonly TimeSpan TlsHandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly DuplexAsyncSocketHandler? _handler;
    private readonly DuplexSocketHandler? _syncHandler;
    private readonly DuplexSocketServerOptions _options;
    private readonly MessageLimits _wireLimits;
    private readonly MessageListener? _listener;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _lock = new();
    private readonly List<Session> _sessions = new();
    private readonly Task _acceptLoop;
    private long _requestsAnswered;
    private long _requestsFailed;
    private long _connectionsAccepted;
    private Exception? _fault;

    /// <summary>
    /// Starts accepting connections on <paramref name="listener"/> (with TLS if
    /// <see cref="DuplexSocketServerOptions.TlsCertificate"/> is set) and answering their requests with
    /// <paramref name="handler"/>. The server owns the listener from now on and disposes it when it stops.
    /// </summary>
    public DuplexSocketServer(MessageListener listener, DuplexAsyncSocketHandler handler, DuplexSocketServerOptions? options = null)
        : this(listener ?? throw new ArgumentNullException(nameof(listener)), null, handler ?? throw new ArgumentNullException(nameof(handler)), null, options)
    {
    }

    /// <summary>As the asynchronous overload, with a handler that runs on a thread-pool thread.</summary>
    public DuplexSocketServer(MessageListener listener, DuplexSocketHandler handler, DuplexSocketServerOptions? options = null)
        : this(listener ?? throw new ArgumentNullException(nameof(listener)), null, null, handler ?? throw new ArgumentNullException(nameof(handler)), options)
    {
    }

    /// <summary>
    /// Starts answering the requests that arrive on <paramref name="connection"/> (already accepted or connected) with
    /// <paramref name="handler"/>. The server owns the connection from now on and closes it when it stops.
    /// </summary>
    public DuplexSocketServer(MessageConnection connection, DuplexAsyncSocketHandler handler, DuplexSocketServerOptions? options = null)
        : this(null, connection ?? throw new ArgumentNullException(nameof(connection)), handler ?? throw new ArgumentNullException(nameof(handler)), null, options)
    {
    }

    /// <summary>As the asynchronous overload, with a handler that runs on a thread-pool thread.</summary>
    public DuplexSocketServer(MessageConnection connection, DuplexSocketHandler handler, DuplexSocketServerOptions? options = null)
        : this(null, connection ?? throw new ArgumentNullException(nameof(connection)), null, handler ?? throw new ArgumentNullException(nameof(handler)), options)
    {
    }

    private DuplexSocketServer(MessageListener? listener, MessageConnection? connection, DuplexAsyncSocketHandler? handler, DuplexSocketHandler? syncHandler, DuplexSocketServerOptions? options)
    {
        _options = options ?? new DuplexSocketServerOptions();
        _options.Validate();
        if (connection is not null && _options.TlsCertificate is not null)
        {
            throw new ArgumentException("DuplexSocketServerOptions.TlsCertificate applies to connections the server accepts; a connection given to it is used as it is.", nameof(options));
        }
        _handler = handler;
        _syncHandler = syncHandler;
        _wireLimits = DuplexSocketEnvelope.WireLimits(_options.Limits);
        _listener = listener;
        if (listener is not null)
        {
            _acceptLoop = Task.Run(() => AcceptLoopAsync(listener));
        }
        else
        {
            _acceptLoop = Task.CompletedTask;
            StartSession(connection!);
        }
    }

    /// <summary>Requests answered so far, failed ones included.</summary>
    public long RequestsAnswered => Interlocked.Read(ref _requestsAnswered);

    /// <summary>Requests answered with a failure because the handler threw, returned null or answered beyond the limits.</summary>
    public long RequestsFailed => Interlocked.Read(ref _requestsFailed);

    /// <summary>Connections served so far (accepted, or the one given).</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Connections being served now.</summary>
    public int ActiveConnections
    {
        get
        {
            lock (_lock)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>What stopped the accept loop on its own (the listening socket failed); null while it runs or once stopped.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>
    /// Stops accepting connections and reading requests, lets the requests in progress finish for at most
    /// <paramref name="timeout"/>, sends their answers, says goodbye on every connection and closes it. Returns false if
    /// requests outlived the timeout: their handlers' token is then cancelled, and each connection is closed once its last
    /// handler has returned (its answer, or a failure, is still sent).
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }
        _stopReading.Cancel();
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] sessions;
        lock (_lock)
        {
            sessions = [.. _sessions.Select(session => session.Done)];
        }
        try
        {
            await Task.WhenAll(sessions).WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            _abort.Cancel();
            return false;
        }
    }

    /// <summary>Stops as <see cref="StopAsync"/> does with <see cref="DuplexSocketServerOptions.StopTimeout"/>.</summary>
    public void Dispose() => StopAsync(_options.StopTimeout).GetAwaiter().GetResult();

    /// <summary>Stops as <see cref="StopAsync"/> does with <see cref="DuplexSocketServerOptions.StopTimeout"/>.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(_options.StopTimeout).ConfigureAwait(false);

    private async Task AcceptLoopAsync(MessageListener listener)
    {
        while (true)
        {
            MessageConnection connection;
            try
            {
                if (_options.TlsCertificate is { } certificate)
                {
                    // Handshakes run one at a time here, so one that stalls must not hold up the next client for long.
                    using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_stopReading.Token);
                    handshake.CancelAfter(TlsHandshakeTimeout);
                    connection = await listener.AcceptTlsAsync(certificate, handshake.Token).ConfigureAwait(false);
                }
                else
                {
                    connection = await listener.AcceptAsync(_stopReading.Token).ConfigureAwait(false);
                }
            }
            catch (Exception) when (_stopReading.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is OperationCanceledException or AuthenticationException or IOException
                or System.ComponentModel.Win32Exception
                or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionAborted or System.Net.Sockets.SocketError.ConnectionReset })
            {
                // One client's connection or handshake failed or stalled (or no client came within the handshake
                // timeout); the listener is fine.
                continue;
            }
            catch (Exception exception)
            {
                Volatile.Write(ref _fault, exception);
                return;
            }
            StartSession(connection);
        }
    }

    private void StartSession(MessageConnection connection)
    {
        var session = new Session(this, connection);
        Interlocked.Increment(ref _connectionsAccepted);
        lock (_lock)
        {
            // Under the lock, so a session that ends at once is removed only after it was added.
            _sessions.Add(session);
            session.Done = Task.Run(session.RunAsync);
        }
    }

    private void EndSession(Session session)
    {
        lock (_lock)
        {
            _sessions.Remove(session);
        }
    }

    /// <summary>One connection: its reading loop, the requests in progress on it, and its sends.</summary>
    private sealed class Session
    {
        private readonly DuplexSocketServer _server;
        private readonly MessageConnection _connection;
        private readonly DuplexSocketOutbox _outbox;
        private readonly SemaphoreSlim _slots;
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // The reading loop counts as one, so the count reaches 0 only once it has ended and every handler has returned.
        private int _inProgress = 1;

        internal Session(DuplexSocketServer server, MessageConnection connection)
        {
            _server = server;
            _connection = connection;
            _outbox = new DuplexSocketOutbox(connection);
            _slots = new SemaphoreSlim(server._options.MaxConcurrency, server._options.MaxConcurrency);
        }

        internal Task Done { get; set; } = Task.CompletedTask;

        internal async Task RunAsync()
        {
            string? goodbye = null;
            try
            {
                _connection.Receiver.Limits = _server._wireLimits;
                goodbye = await ReadRequestsAsync().ConfigureAwait(false);
            }
            finally
            {
                Finished();
                await _drained.Task.ConfigureAwait(false);
                try
                {
                    if (goodbye is not null && !_outbox.IsFaulted)
                    {
                        await SayGoodbyeAsync(goodbye).ConfigureAwait(false);
                        // A close over unread requests would reset the connection and could lose the goodbye.
                        await _connection.CloseDiscardingAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                    }
                }
                catch (Exception exception) when (exception is ZeroLaneException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
                {
                    // The client is gone already.
                }
                finally
                {
                    _connection.Dispose();
                    _server.EndSession(this);
                }
            }
        }

        /// <summary>Reads and dispatches requests until the client leaves (null) or the connection must end (the goodbye's text).</summary>
        private async Task<string?> ReadRequestsAsync()
        {
            CancellationToken stop = _server._stopReading.Token;
            try
            {
                while (true)
                {
                    await _slots.WaitAsync(stop).ConfigureAwait(false);
                    ReceiveResult result;
                    try
                    {
                        result = await _connection.Receiver.TryReceiveAsync(Timeout.InfiniteTimeSpan, stop).ConfigureAwait(false);
                    }
                    catch
                    {
                        _slots.Release();
                        throw;
                    }
                    if (result.Message is not Message request)
                    {
                        _slots.Release();
                        return null;
                    }
                    ulong id;
                    try
                    {
                        (DuplexSocketKind kind, id) = DuplexSocketEnvelope.Read(request, "a DuplexSocketClient");
                        if (kind != DuplexSocketKind.Request)
                        {
                            throw new MessageFormatException($"The peer sent a {kind.ToString().ToLowerInvariant()}, not a request: it is a server, not a DuplexSocketClient.");
                        }
                        request.PromoteFirstPartToBody();
                    }
                    catch
                    {
                        request.Dispose();
                        _slots.Release();
                        throw;
                    }
                    Interlocked.Increment(ref _inProgress);
                    _ = HandleAsync(id, request);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return "the server is stopping";
            }
            catch (MessageFormatException exception)
            {
                return "a request could not be read, so the server closes this connection: " + exception.Message;
            }
            catch (Exception)
            {
                // The connection broke (the client died, or the network failed): nobody to say goodbye to.
                return null;
            }
        }

        private async Task HandleAsync(ulong id, Message request)
        {
            // Off the reading loop: the next request is read while this one is handled.
            await Task.Yield();
            Message? response = null;
            Exception? error = null;
            try
            {
                response = _server._handler is { } handler
                    ? await handler(request, _server._abort.Token).ConfigureAwait(false)
                    : _server._syncHandler!(request);
                if (response is null)
                {
                    error = new InvalidOperationException("The handler returned null instead of a response message.");
                }
                else if (DuplexSocketEnvelope.CheckFits(response, _server._options.Limits, "response") is string tooLarge)
                {
                    error = new MessageFormatException(tooLarge + " (DuplexSocketServerOptions.Limits)");
                }
            }
            catch (Exception exception)
            {
                error = exception;
            }
            try
            {
                await AnswerAsync(id, error is null ? response : null, error).ConfigureAwait(false);
            }
            finally
            {
                try
                {
                    if (!ReferenceEquals(response, request))
                    {
                        response?.Dispose();
                    }
                    request.Dispose();
                }
                catch (AggregateException)
                {
                    // An owner of the handler's response failed to release; the answer is sent, nothing more to do.
                }
                _slots.Release();
                Finished();
            }
        }

        /// <summary>Sends the answer, or the failure; a response that cannot be sent (disposed, say) becomes a failure.</summary>
        private async Task AnswerAsync(ulong id, Message? response, Exception? error)
        {
            try
            {
                await _outbox.EnterAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    if (response is not null)
                    {
                        try
                        {
                            await _outbox.SendEnteredAsync(DuplexSocketKind.Answer, id, response.Body, response).ConfigureAwait(false);
                            Interlocked.Increment(ref _server._requestsAnswered);
                            return;
                        }
                        catch (Exception exception) when (!_outbox.IsFaulted)
                        {
                            // Nothing of it was sent: answer with the reason instead.
                            error = exception;
                        }
                    }
                    await _outbox.SendEnteredAsync(DuplexSocketKind.Failure, id, DuplexSocketEnvelope.FailureText(error!), null).ConfigureAwait(false);
                    Interlocked.Increment(ref _server._requestsAnswered);
                    Interlocked.Increment(ref _server._requestsFailed);
                }
                finally
                {
                    _outbox.Exit();
                }
            }
            catch (Exception)
            {
                // The client is gone (or the stream broke): there is nobody to answer. The reading loop sees it too.
            }
        }

        private async Task SayGoodbyeAsync(string reason)
        {
            await _outbox.EnterAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await _outbox.SendEnteredAsync(DuplexSocketKind.Goodbye, 0, DuplexSocketEnvelope.Utf8(reason), null).ConfigureAwait(false);
            }
            finally
            {
                _outbox.Exit();
            }
        }

        private void Finished()
        {
            if (Interlocked.Decrement(ref _inProgress) == 0)
            {
                _drained.TrySetResult();
            }
        }
    }
}
