using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Duplex;

/// <summary>
/// Calls a <see cref="DuplexSocketServer"/> over one <see cref="MessageConnection"/> (TCP, Unix socket or TLS):
/// <see cref="RequestAsync"/> sends a request <see cref="Message"/> and returns its response message. Any number of
/// callers may call at the same time; their requests are pipelined on the one connection and each gets its own answer,
/// in whatever order the server finishes them (PROTOCOL.md section 15).
/// </summary>
/// <remarks>
/// Design: every request gets a correlation id (1, 2, 3, ...) and a pooled pending call, registered under that id before
/// the request is sent; one receive loop reads responses and completes the pending call of each response's id. Exactly
/// one of the response, the caller's cancellation or timeout, or the loss of the connection completes a pending call:
/// whichever first removes it from the table under the lock. A response whose call is gone (it timed out or was
/// cancelled) is disposed on arrival. Sends take turns (one at a time on a stream) and are never cut short by a
/// caller's token, so no cancellation can leave half a request on the stream.
/// <para>
/// Failures: a request the server's handler failed throws <see cref="DuplexRequestFailedException"/> for that call only.
/// When the connection ends, every pending and later call fails at once with <see cref="DuplexServerGoneException"/>:
/// <see cref="DuplexServerGoneException.Crashed"/> is false when the server said goodbye (it is stopping, or refused this
/// connection, with its reason in the message) and true when the stream ended or broke without one (the server died,
/// or the network failed) - the same exception a duplex channel's client raises when its server goes, because for the
/// caller it means the same: this request will never be answered. A response that is malformed, not a duplex response,
/// or larger than <see cref="DuplexSocketClientOptions.Limits"/> leaves the stream unreadable: every pending and later
/// call fails with <see cref="MessageConnectionFaultedException"/> whose inner <see cref="MessageFormatException"/> says
/// what was wrong.
/// </para>
/// </remarks>
public sealed class DuplexSocketClient : IAsyncDisposable, IDisposable
{
    private readonly MessageConnection _connection;
    private readonly MessageLimits _limits;
    private readonly DuplexSocketOutbox _outbox;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, PendingCall> _pending = new();
    private readonly Stack<PendingCall> _pool = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _receiveLoop;
    private ulong _lastId;
    private Failure? _failure;
    private int _disposed;

    /// <summary>
    /// A client on <paramref name="connection"/>, which it owns from now on (disposing the client disposes it). Nothing
    /// else may send or receive on the connection.
    /// </summary>
    public DuplexSocketClient(MessageConnection connection, DuplexSocketClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        options ??= new DuplexSocketClientOptions();
        options.Validate();
        _connection = connection;
        _limits = options.Limits;
        _connection.Receiver.Limits = DuplexSocketEnvelope.WireLimits(_limits);
        _outbox = new DuplexSocketOutbox(connection);
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Connects to a server listening on TCP, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static async ValueTask<DuplexSocketClient> ConnectTcpAsync(string host, int port, TimeSpan timeout, DuplexSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        MessageLimits wire = WireLimitsOf(options);
        MessageConnection connection = await MessageConnection.ConnectTcpAsync(host, port, timeout, wire, cancellationToken).ConfigureAwait(false);
        return Wrap(connection, options);
    }

    /// <summary>Connects to a server listening on a Unix domain socket, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static async ValueTask<DuplexSocketClient> ConnectUnixAsync(string path, TimeSpan timeout, DuplexSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        MessageLimits wire = WireLimitsOf(options);
        MessageConnection connection = await MessageConnection.ConnectUnixAsync(path, timeout, wire, cancellationToken).ConfigureAwait(false);
        return Wrap(connection, options);
    }

    /// <summary>
    /// Connects to a server accepting TLS over TCP (see <see cref="MessageConnection.ConnectTlsAsync"/> for
    /// <paramref name="targetHost"/> and <paramref name="validateServerCertificate"/>), giving up with
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/> (the handshake included).
    /// </summary>
    public static async ValueTask<DuplexSocketClient> ConnectTlsAsync(string host, int port, string targetHost, TimeSpan timeout,
        RemoteCertificateValidationCallback? validateServerCertificate = null, DuplexSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        MessageLimits wire = WireLimitsOf(options);
        MessageConnection connection = await Timeouts.RunAsync(
            token => MessageConnection.ConnectTlsAsync(host, port, targetHost, validateServerCertificate, wire, token),
            timeout, "Connecting", cancellationToken).ConfigureAwait(false);
        return Wrap(connection, options);
    }

    private static MessageLimits WireLimitsOf(DuplexSocketClientOptions? options)
    {
        options?.Validate();
        return DuplexSocketEnvelope.WireLimits((options ?? new DuplexSocketClientOptions()).Limits);
    }

    private static DuplexSocketClient Wrap(MessageConnection connection, DuplexSocketClientOptions? options)
    {
        try
        {
            return new DuplexSocketClient(connection, options);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The connection's transport: true over TLS.</summary>
    public bool IsTls => _connection.IsTls;

    /// <summary>Requests sent and not yet answered, failed, timed out or cancelled.</summary>
    public int PendingRequests
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>True until the connection ended or failed, or the client was disposed.</summary>
    public bool IsConnected => Volatile.Read(ref _failure) is null;

    /// <summary>
    /// Sends <paramref name="request"/> and returns its response, which the caller owns and must dispose (its body and
    /// parts are slices of the buffer it was received into). The request must stay alive and unchanged until the call
    /// returns; the client does not dispose it.
    /// </summary>
    /// <remarks>
    /// Cancelling or timing out a call fails that call only: a request already being sent is sent whole first (the call
    /// returns once it is), and its response, if it comes, is dropped and disposed. The timeout covers waiting for a turn
    /// to send, sending and waiting for the response.
    /// </remarks>
    /// <exception cref="DuplexRequestFailedException">The server's handler failed this request (threw, returned nothing, or
    /// answered with more than the server's limits allow); the connection and other calls are unaffected.</exception>
    /// <exception cref="TimeoutException">No response within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException">The request is larger than <see cref="DuplexSocketClientOptions.Limits"/> allow; nothing was sent.</exception>
    /// <exception cref="DuplexServerGoneException">The connection ended (the server stopped, refused this connection, or died).</exception>
    /// <exception cref="MessageConnectionFaultedException">The server sent something that is not a valid response, or a
    /// response larger than the limits allow; the connection is unusable.</exception>
    /// <exception cref="ObjectDisposedException">The client, or <paramref name="request"/>, was disposed.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Message> RequestAsync(Message request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (DuplexSocketEnvelope.CheckFits(request, _limits, "request") is string tooLarge)
        {
            throw new ArgumentException(tooLarge + " (DuplexSocketClientOptions.Limits)", nameof(request));
        }
        Volatile.Read(ref _failure)?.Throw();
        PendingCall call = Rent();
        try
        {
            CancellationToken token = call.Arm(timeout, cancellationToken);
            try
            {
                await _outbox.EnterAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                throw call.Abandoned();
            }
            try
            {
                lock (_lock)
                {
                    _failure?.Throw();
                    call.Id = ++_lastId;
                    _pending.Add(call.Id, call);
                }
                call.WatchToken();
                if (!call.IsCompleted)
                {
                    await SendAsync(call, request).ConfigureAwait(false);
                }
            }
            finally
            {
                _outbox.Exit();
            }
            await new ValueTask(call, call.Version).ConfigureAwait(false);
            return call.TakeOutcome();
        }
        finally
        {
            Return(call);
        }
    }

    private async ValueTask SendAsync(PendingCall call, Message request)
    {
        try
        {
            await _outbox.SendEnteredAsync(DuplexSocketKind.Request, call.Id, request.Body, request).ConfigureAwait(false);
        }
        catch (Exception exception) when (!_outbox.IsFaulted && Volatile.Read(ref _failure) is null)
        {
            // Nothing was sent (the request was disposed, or a mapped part's file shrank): this call fails, the
            // connection goes on. If a response, cancellation or failure already completed the call, that outcome stands.
            Complete(call, null, exception);
        }
        catch (Exception exception)
        {
            // The stream broke midway (or had broken): no call on it can be answered any more.
            Fail(new Failure(FailureKind.Gone, $"Sending a request failed ({exception.GetType().Name}: {exception.Message}); the connection to the server is lost.", exception, Crashed: true));
        }
    }

    private void Complete(PendingCall call, Message? response, Exception? error)
    {
        lock (_lock)
        {
            if (!_pending.Remove(call.Id))
            {
                response?.Dispose();
                return;
            }
        }
        call.Complete(response, error);
    }

    private async Task ReceiveLoopAsync()
    {
        Failure failure;
        try
        {
            while (true)
            {
                ReceiveResult result = await _connection.Receiver.TryReceiveAsync(Timeout.InfiniteTimeSpan, _closing.Token).ConfigureAwait(false);
                if (result.Message is not Message message)
                {
                    failure = new Failure(FailureKind.Gone,
                        "The server closed the connection without a goodbye: it died, or the connection was cut. Requests still pending will not be answered; connect again.", null, Crashed: true);
                    break;
                }
                if (Dispatch(message) is Failure goodbye)
                {
                    failure = goodbye;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            failure = Failure.Disposed;
        }
        catch (Exception exception) when (exception is MessageFormatException)
        {
            failure = new Failure(FailureKind.Faulted,
                $"The server's response could not be read: {exception.Message} The stream cannot be read past it, so every pending request failed; dispose this client and connect again.", exception, false);
        }
        catch (Exception exception) when (Volatile.Read(ref _disposed) != 0)
        {
            failure = new Failure(FailureKind.Disposed, "The client was disposed.", exception, false);
        }
        catch (Exception exception)
        {
            failure = new Failure(FailureKind.Gone,
                $"The connection to the server broke ({exception.GetType().Name}: {exception.Message}): the server died or the network failed. Requests still pending will not be answered; connect again.", exception, Crashed: true);
        }
        Fail(failure);
        // Sends waiting for room in the socket fail at once; the server sees the end of the stream.
        _connection.Dispose();
    }

    /// <summary>Hands one received message to its call; a failure if the server said goodbye.</summary>
    private Failure? Dispatch(Message message)
    {
        DuplexSocketKind kind;
        ulong id;
        try
        {
            (kind, id) = DuplexSocketEnvelope.Read(message, "a DuplexSocketServer");
            if (kind == DuplexSocketKind.Request)
            {
                throw new MessageFormatException("The peer sent a request, not a response: it is a DuplexSocketClient, not a server. Connect to a DuplexSocketServer.");
            }
            if (kind != DuplexSocketKind.Goodbye && id > Volatile.Read(ref _lastId))
            {
                throw new MessageFormatException($"The server answered request {id}, which was never sent: the server is incompatible or the stream is corrupt.");
            }
        }
        catch
        {
            message.Dispose();
            throw;
        }
        switch (kind)
        {
            case DuplexSocketKind.Answer:
                message.PromoteFirstPartToBody();
                Complete(id, message, null);
                return null;
            case DuplexSocketKind.Failure:
                string remote = TextOfAndDispose(message);
                Complete(id, null, remote);
                return null;
            default:
                string reason = TextOfAndDispose(message);
                return new Failure(FailureKind.Gone, $"The server ended the connection: {reason}. Requests still pending will not be answered.", null, Crashed: false);
        }
    }

    private static string TextOfAndDispose(Message message)
    {
        try
        {
            return DuplexSocketEnvelope.TextOf(message);
        }
        finally
        {
            message.Dispose();
        }
    }

    private void Complete(ulong id, Message? response, string? remoteError)
    {
        PendingCall? call;
        lock (_lock)
        {
            _pending.Remove(id, out call);
        }
        if (call is null)
        {
            // Its caller gave up (timed out or cancelled) before the response arrived.
            response?.Dispose();
            return;
        }
        call.Complete(response, remoteError is null ? null : new DuplexRequestFailedException(
            $"The server's handler failed this request ({remoteError}). Only this request failed; the connection and other requests go on.", remoteError));
    }

    /// <summary>Ends the connection for every pending and later call with <paramref name="failure"/> (the first one stands).</summary>
    private void Fail(Failure failure)
    {
        PendingCall[] calls;
        lock (_lock)
        {
            _failure ??= failure;
            failure = _failure;
            calls = [.. _pending.Values];
            _pending.Clear();
        }
        foreach (PendingCall call in calls)
        {
            call.Complete(null, failure.Create());
        }
    }

    private PendingCall Rent()
    {
        lock (_lock)
        {
            if (_pool.TryPop(out PendingCall? call))
            {
                return call;
            }
        }
        return new PendingCall(this);
    }

    private void Return(PendingCall call)
    {
        // After Disarm no token callback can run any more, so the call may be reused.
        call.Disarm();
        lock (_lock)
        {
            // A call still in the table (its send failed before it was answered) is removed before it is reused.
            if (_pending.TryGetValue(call.Id, out PendingCall? registered) && ReferenceEquals(registered, call))
            {
                _pending.Remove(call.Id);
            }
            call.Reset();
            if (_pool.Count < 64)
            {
                _pool.Push(call);
            }
        }
    }

    /// <summary>
    /// Closes the connection at once: every pending call fails with <see cref="ObjectDisposedException"/>, and so does every
    /// later one. Responses already returned stay valid until disposed.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Fail(Failure.Disposed);
        _closing.Cancel();
        _connection.Dispose();
        try
        {
            _receiveLoop.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Fail(Failure.Disposed);
        _closing.Cancel();
        _connection.Dispose();
        await _receiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private enum FailureKind
    {
        Gone,
        Faulted,
        Disposed,
    }

    /// <summary>Why the connection can carry no more calls; makes a fresh exception for each call it fails.</summary>
    private sealed record Failure(FailureKind Kind, string Text, Exception? Cause, bool Crashed)
    {
        internal static readonly Failure Disposed = new(FailureKind.Disposed, "The client was disposed; its pending requests will not be answered.", null, false);

        internal Exception Create() => Kind switch
        {
            FailureKind.Gone => new DuplexServerGoneException(Text, Crashed),
            FailureKind.Faulted => new MessageConnectionFaultedException(Text, Cause),
            _ => new ObjectDisposedException(nameof(DuplexSocketClient), Text),
        };

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        internal void Throw() => throw Create();
    }

    /// <summary>
    /// One call waiting for its response: completed once (by the response, its token, or the connection's end), awaited
    /// once, then reset and pooled.
    /// </summary>
    private sealed class PendingCall : IValueTaskSource
    {
        private readonly DuplexSocketClient _client;
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenSource? _source;
        private CancellationTokenRegistration _callerRegistration;
        private CancellationTokenRegistration _tokenRegistration;
        private CancellationToken _callerToken;
        private TimeSpan _timeout;
        private Message? _response;
        private Exception? _error;
        private int _completed;

        internal PendingCall(DuplexSocketClient client)
        {
            _client = client;
        }

        internal ulong Id { get; set; }

        internal short Version => _core.Version;

        internal bool IsCompleted => Volatile.Read(ref _completed) != 0;

        /// <summary>Starts the call's clock: the token returned fires at the timeout or when the caller cancels.</summary>
        internal CancellationToken Arm(TimeSpan timeout, CancellationToken callerToken)
        {
            _timeout = timeout;
            _callerToken = callerToken;
            if (timeout == Timeout.InfiniteTimeSpan && !callerToken.CanBeCanceled)
            {
                return CancellationToken.None;
            }
            _source ??= new CancellationTokenSource();
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                _source.CancelAfter(timeout);
            }
            if (callerToken.CanBeCanceled)
            {
                _callerRegistration = callerToken.UnsafeRegister(static state => ((PendingCall)state!)._source!.Cancel(), this);
            }
            return _source.Token;
        }

        /// <summary>Once the call is in the table: its token, when it fires, completes the call with a timeout or cancellation.</summary>
        internal void WatchToken()
        {
            if (_source is not null && (_timeout != Timeout.InfiniteTimeSpan || _callerToken.CanBeCanceled))
            {
                _tokenRegistration = _source.Token.UnsafeRegister(static state =>
                {
                    var call = (PendingCall)state!;
                    call._client.Complete(call, null, call.Abandoned());
                }, this);
            }
        }

        /// <summary>The exception for a call its token ended: the caller's cancellation, or the timeout.</summary>
        internal Exception Abandoned() => _callerToken.IsCancellationRequested
            ? new OperationCanceledException("The request was cancelled; its response, if it comes, will be dropped.", _callerToken)
            : new TimeoutException($"No response arrived within {_timeout.TotalMilliseconds:0.###} ms; the response, if it comes, will be dropped.");

        internal void Complete(Message? response, Exception? error)
        {
            if (Interlocked.Exchange(ref _completed, 1) != 0)
            {
                response?.Dispose();
                return;
            }
            _response = response;
            _error = error;
            _core.SetResult(true);
        }

        /// <summary>The response (now the caller's), or throws the call's error.</summary>
        internal Message TakeOutcome()
        {
            if (_error is Exception error)
            {
                _error = null;
                throw error;
            }
            Message response = _response!;
            _response = null;
            return response;
        }

        /// <summary>Stops the clock and waits out a token callback that is running, so the call can be reused.</summary>
        internal void Disarm()
        {
            // The caller's callback cancels the source, which runs the token's callback: end the outer one first.
            _callerRegistration.Dispose();
            _tokenRegistration.Dispose();
            _tokenRegistration = default;
            _callerRegistration = default;
            if (_source is not null && !_source.TryReset())
            {
                _source.Dispose();
                _source = null;
            }
        }

        internal void Reset()
        {
            // A response that arrived after the caller stopped waiting (it threw first) is not leaked.
            _response?.Dispose();
            _response = null;
            _error = null;
            _callerToken = default;
            Id = 0;
            Volatile.Write(ref _completed, 0);
            _core.Reset();
        }

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
