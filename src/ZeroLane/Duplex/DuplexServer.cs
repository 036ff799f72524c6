using System.Buffers;
using ZeroLane.Buffers;

namespace ZeroLane.Duplex;

/// <summary>
/// The server end of duplex channel NAME, compatible with ZeroBuffer's reference duplex channels: it creates the
/// request ring <c>NAME_request</c> as its reader, and answers each client's requests, one at a time and strictly in
/// order, in the response ring <c>NAME_response</c> the client created.
/// </summary>
/// <remarks>
/// Design: one thread of the server's own reads the request ring and runs the handler; only that thread touches the
/// rings, and it disposes them when it ends, so stopping never unmaps a frame a handler is still reading. A client's
/// session begins with its first request (the server then connects to its response ring, which the client created
/// before writing) and ends when the request ring reports its writer disconnected or died (the server then
/// disconnects from the response ring and waits for the next client). Every request is answered exactly once, in
/// order, so the k-th response carries the k-th request's sequence number; a failed handler is answered with a
/// <see cref="DuplexFailure"/> frame, never skipped. A client whose response ring is gone (it died) makes the server
/// drop that session's remaining requests until the request ring reports the end of the session.
/// </remarks>
public sealed class DuplexServer : IDisposable, IAsyncDisposable
{
    private readonly DuplexServerOptions _options;
    private readonly DuplexRequestHandler? _handler;
    private readonly DuplexLoanHandler? _loanHandler;
    private readonly RingReader _requests;
    private readonly string _responseName;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private RingWriter? _responses;
    private bool _sessionBroken;
    private long _requestsAnswered;
    private long _requestsFailed;
    private long _requestsDropped;
    private long _sessionsEnded;
    private Exception? _fault;
    private int _stopping;

    /// <summary>Creates <c>NAME_request</c> and starts answering requests with <paramref name="handler"/>.</summary>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live server already serves channel NAME.</exception>
    public DuplexServer(string name, DuplexRequestHandler handler, DuplexServerOptions? options = null)
        : this(name, options, handler ?? throw new ArgumentNullException(nameof(handler)), null)
    {
    }

    /// <summary>
    /// Creates <c>NAME_request</c> and starts answering requests with <paramref name="handler"/>, which writes each
    /// response in place into the response ring.
    /// </summary>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live server already serves channel NAME.</exception>
    public DuplexServer(string name, DuplexLoanHandler handler, DuplexServerOptions? options = null)
        : this(name, options, null, handler ?? throw new ArgumentNullException(nameof(handler)))
    {
    }

    private DuplexServer(string name, DuplexServerOptions? options, DuplexRequestHandler? handler, DuplexLoanHandler? loanHandler)
    {
        DuplexNames.Validate(name);
        _options = options ?? new DuplexServerOptions();
        _options.Validate();
        Name = name;
        _handler = handler;
        _loanHandler = loanHandler;
        _responseName = DuplexNames.Response(name);
        _requests = new RingReader(DuplexNames.Request(name), _options.RequestRing);
        _thread = new Thread(Serve) { IsBackground = true, Name = "ZeroLane duplex server " + name };
        _thread.Start();
    }

    /// <summary>The channel's name (its rings are NAME_request and NAME_response).</summary>
    public string Name { get; }

    /// <summary>Requests answered so far, failed ones included.</summary>
    public long RequestsAnswered => Interlocked.Read(ref _requestsAnswered);

    /// <summary>Requests answered with a <see cref="DuplexFailure"/> frame because the handler failed.</summary>
    public long RequestsFailed => Interlocked.Read(ref _requestsFailed);

    /// <summary>Requests read but not answered because their client's response ring was gone or never appeared.</summary>
    public long RequestsDropped => Interlocked.Read(ref _requestsDropped);

    /// <summary>Client sessions that ended (the client disconnected or died).</summary>
    public long SessionsEnded => Interlocked.Read(ref _sessionsEnded);

    /// <summary>True while the server's thread runs (until stopped or faulted).</summary>
    public bool IsRunning => !_stopped.Task.IsCompleted;

    /// <summary>
    /// What stopped the server on its own: a corrupted request ring, say; null while it runs or when it was stopped.
    /// </summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>
    /// Stops reading requests, lets the request in progress be answered for at most <paramref name="timeout"/>, and
    /// removes the request ring. Returns false if the request in progress outlived the timeout: its response is then
    /// not written, and the rings are released by the server's thread when the handler returns (never under it).
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        Interlocked.Exchange(ref _stopping, 1);
        _stopReading.Cancel();
        try
        {
            await _stopped.Task.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            _abort.Cancel();
            return false;
        }
    }

    /// <summary>Stops as <see cref="StopAsync"/> does with <see cref="DuplexServerOptions.StopTimeout"/>.</summary>
    public void Dispose() => StopAsync(_options.StopTimeout).GetAwaiter().GetResult();

    /// <summary>Stops as <see cref="StopAsync"/> does with <see cref="DuplexServerOptions.StopTimeout"/>.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(_options.StopTimeout).ConfigureAwait(false);

    private void Serve()
    {
        try
        {
            while (Volatile.Read(ref _stopping) == 0)
            {
                ReadStatus status;
                Frame request;
                try
                {
                    status = _requests.TryRead(out request, Timeout.InfiniteTimeSpan, _stopReading.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                if (status == ReadStatus.Success)
                {
                    using (request)
                    {
                        Answer(request);
                    }
                }
                else if (status is ReadStatus.WriterDisconnected or ReadStatus.WriterDied)
                {
                    EndSession();
                }
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref _fault, e);
        }
        finally
        {
            _responses?.Dispose();
            _responses = null;
            _requests.Dispose();
            _stopped.TrySetResult();
        }
    }

    private void EndSession()
    {
        _responses?.Dispose();
        _responses = null;
        _sessionBroken = false;
        Interlocked.Increment(ref _sessionsEnded);
    }

    private void Answer(Frame request)
    {
        if (request.Sequence == 1 && (_responses is not null || _sessionBroken))
        {
            // A new client's first request before the request ring reported the previous client's end.
            EndSession();
        }
        if (_sessionBroken || (_responses is null && !TryConnectResponses()))
        {
            Interlocked.Increment(ref _requestsDropped);
            return;
        }
        WriteStatus written;
        try
        {
            written = _loanHandler is null ? AnswerWithBytes(request) : AnswerInPlace(request);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            Interlocked.Increment(ref _requestsDropped);
            return;
        }
        if (written == WriteStatus.ReaderGone)
        {
            // The client died (or removed its response ring): nothing more can reach it.
            _responses!.Dispose();
            _responses = null;
            _sessionBroken = true;
            Interlocked.Increment(ref _requestsDropped);
            return;
        }
        Interlocked.Increment(ref _requestsAnswered);
    }

    private bool TryConnectResponses()
    {
        try
        {
            if (RingWriter.TryConnect(_responseName, out RingWriter? writer, _options.ResponseConnectTimeout, _options.ResponseWriter, _abort.Token)
                == ConnectStatus.Success)
            {
                _responses = writer;
                return true;
            }
        }
        catch (Exception e) when (e is ZeroLaneException or OperationCanceledException or IOException or UnauthorizedAccessException)
        {
            // Another writer holds the response ring, it is not a ring, or its permissions shut this server out: this
            // session cannot be answered, but the next client's may be.
        }
        _sessionBroken = true;
        return false;
    }

    private WriteStatus AnswerWithBytes(Frame request)
    {
        RingWriter responses = _responses!;
        ReadOnlySpan<byte> response;
        try
        {
            response = _handler!(request);
            if (response.IsEmpty)
            {
                throw new InvalidOperationException("The handler returned an empty response; a ring frame holds at least one byte.");
            }
            if (response.Length > responses.MaxFrameLength)
            {
                throw new FrameTooLargeException(
                    $"The handler's {response.Length}-byte response exceeds the {responses.MaxFrameLength}-byte frame limit of '{responses.Name}'. " +
                    "Ask the client to create a larger response ring.");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !_abort.IsCancellationRequested)
        {
            return WriteFailure(e);
        }
        return responses.TryWrite(response, Timeout.InfiniteTimeSpan, _abort.Token);
    }

    private WriteStatus AnswerInPlace(Frame request)
    {
        RingWriter responses = _responses!;
        int capacity = Math.Min(_options.ResponseLoanLength, responses.MaxFrameLength);
        WriteStatus status = responses.TryLoan(capacity, out FrameLoan loan, Timeout.InfiniteTimeSpan, _abort.Token);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        Exception? failure = null;
        using (loan)
        {
            try
            {
                _loanHandler!(request, loan.BufferWriter);
                if (loan.WrittenCount == 0)
                {
                    throw new InvalidOperationException("The handler wrote an empty response; a ring frame holds at least one byte.");
                }
                loan.Commit(loan.WrittenCount);
            }
            catch (Exception e) when (e is not OperationCanceledException || !_abort.IsCancellationRequested)
            {
                failure = e;
            }
        }
        return failure is null ? WriteStatus.Success : WriteFailure(failure);
    }

    private WriteStatus WriteFailure(Exception error)
    {
        Interlocked.Increment(ref _requestsFailed);
        RingWriter responses = _responses!;
        return responses.TryWrite(DuplexFailure.Create(error, responses.MaxFrameLength), Timeout.InfiniteTimeSpan, _abort.Token);
    }
}
