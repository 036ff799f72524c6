using System.Buffers;
using System.Runtime.InteropServices;
using ZeroLane.Buffers;
using ZeroLane.Messages;

namespace ZeroLane.Duplex;

/// <summary>
/// The server end of duplex channel NAME, compatible with ZeroBuffer's reference duplex channels: it creates the
/// request ring <c>NAME_request</c> as its reader, and answers each client's requests in the response ring
/// <c>NAME_response</c> the client created. With a ZeroLane client it speaks the extended mode (PROTOCOL.md 14.5):
/// concurrent requests answered out of order, failures as error responses.
/// </summary>
/// <remarks>
/// Design: one thread of the server's own reads the request ring. With <see cref="DuplexServerOptions.MaxConcurrency"/>
/// 1 it runs the handler itself (no hand-over between threads); above 1 it hands each request to the thread pool, at most
/// that many at once. Responses are written under one lock, since a ring has one writer. The reading thread disposes the
/// rings when it ends, after every request in progress returned, so stopping never unmaps a frame a handler still reads.
/// A client's session begins with its first request (the server then connects to its response ring, which the client
/// created before writing, and learns from it which mode the session speaks) and ends when the request ring reports
/// its writer disconnected or died (the server waits for the session's requests in progress, then disconnects from the
/// response ring and waits for the next client). Every request is answered exactly once; in the reference mode in
/// order, so the k-th response carries the k-th request's sequence number, and a failed handler is answered with a
/// <see cref="DuplexFailure"/> frame, never skipped. A client whose response ring is gone (it died) makes the server drop
/// that session's remaining requests until the request ring reports the end of the session.
/// </remarks>
public sealed class DuplexServer : IDisposable, IAsyncDisposable
{
    private enum HandlerKind
    {
        Bytes,
        Loan,
        InPlace,
        Message,
        BytesAsync,
        MessageAsync,
    }

    private readonly DuplexServerOptions _options;
    private readonly HandlerKind _kind;
    private readonly Delegate _handler;
    private readonly RingReader _requests;
    private readonly string _responseName;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private readonly bool _concurrent;

    // The session: the response writer and what the session speaks. Guarded by _sessionLock, which is also the
    // monitor that reference-mode answers wait on for their turn.
    private readonly object _sessionLock = new();
    private RingWriter? _responses;
    private bool _sessionBroken;
    private bool _extended;
    private ulong _nextInOrder = 1;

    // Requests handed to the thread pool and not finished (MaxConcurrency above 1). Guarded by _flightLock.
    private readonly object _flightLock = new();
    private readonly Stack<RequestWork> _idleWork = new();
    private int _inFlight;

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
        : this(name, options, HandlerKind.Bytes, handler)
    {
    }

    /// <summary>
    /// Creates <c>NAME_request</c> and starts answering requests with <paramref name="handler"/>, which writes each
    /// response in place into the response ring.
    /// </summary>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live server already serves channel NAME.</exception>
    public DuplexServer(string name, DuplexLoanHandler handler, DuplexServerOptions? options = null)
        : this(name, options, HandlerKind.Loan, handler)
    {
    }

    /// <summary>
    /// Creates <c>NAME_request</c> and starts answering requests with <paramref name="handler"/>, which changes each
    /// request in place and answers with (the first bytes of) it.
    /// </summary>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live server already serves channel NAME.</exception>
    public DuplexServer(string name, DuplexInPlaceHandler handler, DuplexServerOptions? options = null)
        : this(name, options, HandlerKind.InPlace, handler)
    {
    }

    /// <summary>Creates <c>NAME_request</c> and starts answering requests with the messages <paramref name="handler"/> returns.</summary>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live server already serves channel NAME.</exception>
    public DuplexServer(string name, DuplexMessageHandler handler, DuplexServerOptions? options = null)
        : this(name, options, HandlerKind.Message, handler)
    {
    }

    /// <summary>Creates <c>NAME_request</c> and starts answering requests with the asynchronous <paramref name="handler"/>.</summary>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live server already serves channel NAME.</exception>
    public DuplexServer(string name, DuplexAsyncRequestHandler handler, DuplexServerOptions? options = null)
        : this(name, options, HandlerKind.BytesAsync, handler)
    {
    }

    /// <summary>Creates <c>NAME_request</c> and starts answering requests with the asynchronous <paramref name="handler"/>.</summary>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live server already serves channel NAME.</exception>
    public DuplexServer(string name, DuplexAsyncMessageHandler handler, DuplexServerOptions? options = null)
        : this(name, options, HandlerKind.MessageAsync, handler)
    {
    }

    private DuplexServer(string name, DuplexServerOptions? options, HandlerKind kind, Delegate handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        DuplexNames.Validate(name);
        _options = options ?? new DuplexServerOptions();
        _options.Validate();
        Name = name;
        _kind = kind;
        _handler = handler;
        _concurrent = _options.MaxConcurrency > 1;
        _responseName = DuplexNames.Response(name);
        ReaderOptions requestRing = _options.Mode == DuplexMode.Extended
            ? _options.RequestRing with { AdvertisedFlags = _options.RequestRing.AdvertisedFlags | DuplexWire.ExtendedFlag }
            : _options.RequestRing;
        _requests = new RingReader(DuplexNames.Request(name), requestRing);
        // Answers waiting for their turn (reference mode) give up when the stop times out.
        _abort.Token.Register(() =>
        {
            lock (_sessionLock)
            {
                Monitor.PulseAll(_sessionLock);
            }
        });
        _thread = new Thread(Serve) { IsBackground = true, Name = "ZeroLane duplex server " + name };
        _thread.Start();
    }

    /// <summary>The channel's name (its rings are NAME_request and NAME_response).</summary>
    public string Name { get; }

    /// <summary>
    /// Requests answered so far, failed ones included; an answer is counted just before it is written, so a client that
    /// has received it sees it counted.
    /// </summary>
    public long RequestsAnswered => Interlocked.Read(ref _requestsAnswered);

    /// <summary>Requests answered as failed (a <see cref="DuplexFailure"/> frame, or an error response) because the handler failed.</summary>
    public long RequestsFailed => Interlocked.Read(ref _requestsFailed);

    /// <summary>
    /// Requests read but not answered: their client's response ring was gone or never appeared, or the server's stop
    /// timed out before their handler finished.
    /// </summary>
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
    /// Stops reading requests, lets the requests in progress be answered for at most <paramref name="timeout"/>, and
    /// removes the request ring. Returns false if requests in progress outlived the timeout: the asynchronous handlers'
    /// token is then cancelled, their responses are not written, and the rings are released by the server's thread when
    /// the last handler returns (never under one).
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
                    Dispatch(request);
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
            WaitForRequestsInProgress();
            lock (_sessionLock)
            {
                _responses?.Dispose();
                _responses = null;
            }
            _requests.Dispose();
            _stopped.TrySetResult();
        }
    }

    private void Dispatch(Frame request)
    {
        if (request.Sequence == 1 && (_responses is not null || _sessionBroken))
        {
            // A new client's first request before the request ring reported the previous client's end.
            EndSession();
        }
        bool answerable = _responses is not null && !_sessionBroken;
        if (!answerable)
        {
            lock (_sessionLock)
            {
                answerable = !_sessionBroken && (_responses is not null || TryConnectResponses());
            }
        }
        if (!answerable)
        {
            Interlocked.Increment(ref _requestsDropped);
            request.Dispose();
            return;
        }
        if (!_concurrent)
        {
            if (_kind is HandlerKind.BytesAsync or HandlerKind.MessageAsync)
            {
                ValueTask done = Process(request);
                if (!done.IsCompletedSuccessfully)
                {
                    done.AsTask().GetAwaiter().GetResult();
                }
                return;
            }
            // One request at a time on this thread: no hand-over, no state machine.
            using (request)
            {
                AnswerSynchronously(request);
            }
            return;
        }
        RequestWork work;
        lock (_flightLock)
        {
            while (_inFlight >= _options.MaxConcurrency)
            {
                Monitor.Wait(_flightLock);
            }
            _inFlight++;
            work = _idleWork.Count > 0 ? _idleWork.Pop() : new RequestWork(this);
        }
        work.Request = request;
        ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: false);
    }

    /// <summary>Waits until every request handed to the thread pool has finished.</summary>
    private void WaitForRequestsInProgress()
    {
        if (!_concurrent)
        {
            return;
        }
        lock (_flightLock)
        {
            while (_inFlight > 0)
            {
                Monitor.Wait(_flightLock);
            }
        }
    }

    private void EndSession()
    {
        WaitForRequestsInProgress();
        lock (_sessionLock)
        {
            _responses?.Dispose();
            _responses = null;
            _sessionBroken = false;
            _extended = false;
            _nextInOrder = 1;
        }
        Interlocked.Increment(ref _sessionsEnded);
    }

    /// <summary>Connects to the session's response ring and learns the session's mode. Caller holds _sessionLock.</summary>
    private bool TryConnectResponses()
    {
        try
        {
            if (RingWriter.TryConnect(_responseName, out RingWriter? writer, _options.ResponseConnectTimeout, _options.ResponseWriter, _abort.Token)
                == ConnectStatus.Success)
            {
                _responses = writer;
                _extended = _options.Mode == DuplexMode.Extended && writer!.ReaderAdvertises(DuplexWire.ExtendedFlag);
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

    /// <summary>Runs the handler for one request and writes its answer; always releases the request.</summary>
    private async ValueTask Process(Frame request)
    {
        try
        {
            switch (_kind)
            {
                case HandlerKind.BytesAsync:
                    {
                        ReadOnlyMemory<byte> answer = default;
                        Exception? failure = null;
                        try
                        {
                            answer = await ((DuplexAsyncRequestHandler)_handler)(request, _abort.Token).ConfigureAwait(false);
                        }
                        catch (Exception e) when (IsHandlerFailure(e))
                        {
                            failure = e;
                        }
                        catch (OperationCanceledException)
                        {
                            Interlocked.Increment(ref _requestsDropped);
                            return;
                        }
                        if (failure is null)
                        {
                            RespondWith(request.Sequence, answer.Span);
                        }
                        else
                        {
                            RespondWithFailure(request.Sequence, failure);
                        }
                        break;
                    }
                case HandlerKind.MessageAsync:
                    {
                        Message? answer = null;
                        Exception? failure = null;
                        try
                        {
                            answer = await ((DuplexAsyncMessageHandler)_handler)(request, _abort.Token).ConfigureAwait(false);
                        }
                        catch (Exception e) when (IsHandlerFailure(e))
                        {
                            failure = e;
                        }
                        catch (OperationCanceledException)
                        {
                            Interlocked.Increment(ref _requestsDropped);
                            return;
                        }
                        if (failure is null)
                        {
                            RespondWith(request.Sequence, answer);
                        }
                        else
                        {
                            RespondWithFailure(request.Sequence, failure);
                        }
                        break;
                    }
                default:
                    AnswerSynchronously(request);
                    break;
            }
        }
        finally
        {
            request.Dispose();
            if (_concurrent)
            {
                lock (_flightLock)
                {
                    _inFlight--;
                    Monitor.PulseAll(_flightLock);
                }
            }
        }
    }

    private void AnswerSynchronously(Frame request)
    {
        ulong sequence = request.Sequence;
        switch (_kind)
        {
            case HandlerKind.Loan:
                RespondInPlace(request);
                return;
            case HandlerKind.Message:
                {
                    Message answer;
                    try
                    {
                        answer = ((DuplexMessageHandler)_handler)(request);
                    }
                    catch (Exception e) when (IsHandlerFailure(e))
                    {
                        RespondWithFailure(sequence, e);
                        return;
                    }
                    RespondWith(sequence, answer);
                    return;
                }
            case HandlerKind.InPlace:
                {
                    // The request ring is mapped for reading and writing: the handler works on the request's own bytes.
                    ReadOnlySpan<byte> bytes = request.Span;
                    Span<byte> data = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(bytes), bytes.Length);
                    int length;
                    try
                    {
                        length = ((DuplexInPlaceHandler)_handler)(request, data);
                        if ((uint)length > (uint)data.Length)
                        {
                            throw new InvalidOperationException(
                                $"The in-place handler returned a response length of {length}; it must be 0 to the request's {data.Length} bytes.");
                        }
                    }
                    catch (Exception e) when (IsHandlerFailure(e))
                    {
                        RespondWithFailure(sequence, e);
                        return;
                    }
                    RespondWith(sequence, data[..length]);
                    return;
                }
            default:
                {
                    ReadOnlySpan<byte> answer;
                    try
                    {
                        answer = ((DuplexRequestHandler)_handler)(request);
                    }
                    catch (Exception e) when (IsHandlerFailure(e))
                    {
                        RespondWithFailure(sequence, e);
                        return;
                    }
                    RespondWith(sequence, answer);
                    return;
                }
        }
    }

    /// <summary>A handler's exception that is answered as a failure: anything but the cancellation of an aborted stop.</summary>
    private bool IsHandlerFailure(Exception e) => e is not OperationCanceledException || !_abort.IsCancellationRequested;

    private void RespondWith(ulong sequence, ReadOnlySpan<byte> answer)
    {
        lock (_sessionLock)
        {
            if (!AwaitTurn(sequence))
            {
                return;
            }
            WriteStatus status;
            try
            {
                status = WriteAnswer(sequence, answer);
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                status = WriteStatus.TimedOut;
            }
            Written(sequence, status);
        }
    }

    private void RespondWith(ulong sequence, Message? answer)
    {
        using (answer)
        {
            lock (_sessionLock)
            {
                if (!AwaitTurn(sequence))
                {
                    return;
                }
                WriteStatus status;
                try
                {
                    status = answer is null
                        ? WriteFailure(sequence, new InvalidOperationException("The handler returned null instead of a message."))
                        : WriteMessage(sequence, answer);
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    status = WriteStatus.TimedOut;
                }
                Written(sequence, status);
            }
        }
    }

    private void RespondWithFailure(ulong sequence, Exception error)
    {
        lock (_sessionLock)
        {
            if (!AwaitTurn(sequence))
            {
                return;
            }
            WriteStatus status;
            try
            {
                status = WriteFailure(sequence, error);
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                status = WriteStatus.TimedOut;
            }
            Written(sequence, status);
        }
    }

    /// <summary>
    /// Runs a <see cref="DuplexLoanHandler"/> into a loan of the response ring, under the session lock (a ring has one loan
    /// open at a time).
    /// </summary>
    private void RespondInPlace(Frame request)
    {
        ulong sequence = request.Sequence;
        lock (_sessionLock)
        {
            if (!AwaitTurn(sequence))
            {
                return;
            }
            WriteStatus status;
            try
            {
                status = WriteFromLoanHandler(request);
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                status = WriteStatus.TimedOut;
            }
            Written(sequence, status);
        }
    }

    /// <summary>
    /// Waits (reference mode) until the answers before <paramref name="sequence"/> are written. False if the answer cannot
    /// be written: the session broke or the stop timed out; the request then counts as dropped. Caller holds _sessionLock.
    /// </summary>
    private bool AwaitTurn(ulong sequence)
    {
        while (!_sessionBroken && _responses is not null && !_abort.IsCancellationRequested && !_extended && _nextInOrder < sequence)
        {
            Monitor.Wait(_sessionLock);
        }
        if (_sessionBroken || _responses is null || _abort.IsCancellationRequested)
        {
            Interlocked.Increment(ref _requestsDropped);
            return false;
        }
        // Counted before the answer is written, so a client that has its answer sees it counted; taken back if the write fails.
        Interlocked.Increment(ref _requestsAnswered);
        return true;
    }

    /// <summary>Accounts for an answer's write. Caller holds _sessionLock.</summary>
    private void Written(ulong sequence, WriteStatus status)
    {
        if (status != WriteStatus.Success)
        {
            Interlocked.Decrement(ref _requestsAnswered);
            if (status == WriteStatus.ReaderGone)
            {
                // The client died (or removed its response ring): nothing more can reach it.
                _responses!.Dispose();
                _responses = null;
                _sessionBroken = true;
            }
            Interlocked.Increment(ref _requestsDropped);
        }
        if (!_extended && sequence >= _nextInOrder)
        {
            _nextInOrder = sequence + 1;
        }
        if (_concurrent)
        {
            Monitor.PulseAll(_sessionLock);
        }
    }

    private WriteStatus WriteAnswer(ulong sequence, ReadOnlySpan<byte> answer)
    {
        RingWriter responses = _responses!;
        if (!_extended)
        {
            if (answer.IsEmpty)
            {
                return WriteFailure(sequence, new InvalidOperationException(
                    "The handler returned an empty response; a reference-mode client's ring frame holds at least one byte."));
            }
            if (answer.Length > responses.MaxFrameLength)
            {
                return WriteFailure(sequence, TooLarge(answer.Length, responses));
            }
            return responses.TryWrite(answer, Timeout.InfiniteTimeSpan, _abort.Token);
        }
        if (answer.Length > responses.MaxFrameLength - DuplexWire.HeaderSize)
        {
            return WriteFailure(sequence, TooLarge(answer.Length, responses));
        }
        Span<byte> header = stackalloc byte[DuplexWire.HeaderSize];
        DuplexWire.WriteHeader(header, sequence, DuplexWire.StatusAnswer);
        return responses.TryWrite(header, answer, Timeout.InfiniteTimeSpan, _abort.Token);
    }

    private WriteStatus WriteMessage(ulong sequence, Message answer)
    {
        RingWriter responses = _responses!;
        int header = _extended ? DuplexWire.HeaderSize : 0;
        long encoded = MessageEncoding.TotalLength(answer);
        if (encoded > responses.MaxFrameLength - header)
        {
            return WriteFailure(sequence, TooLarge(encoded, responses));
        }
        int total = header + (int)encoded;
        WriteStatus status = responses.TryLoan(total, out FrameLoan loan, Timeout.InfiniteTimeSpan, _abort.Token);
        if (status != WriteStatus.Success)
        {
            return status;
        }
        Exception? failure = null;
        using (loan)
        {
            try
            {
                Span<byte> frame = loan.Span;
                if (_extended)
                {
                    DuplexWire.WriteHeader(frame, sequence, DuplexWire.StatusAnswer);
                }
                FrameMessages.Encode(answer, frame[header..]);
                loan.Commit(total);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failure = e;
            }
        }
        return failure is null ? WriteStatus.Success : WriteFailure(sequence, failure);
    }

    private WriteStatus WriteFromLoanHandler(Frame request)
    {
        RingWriter responses = _responses!;
        int header = _extended ? DuplexWire.HeaderSize : 0;
        int capacity = (int)Math.Min((long)_options.ResponseLoanLength + header, responses.MaxFrameLength);
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
                IBufferWriter<byte> writer = loan.BufferWriter;
                if (_extended)
                {
                    DuplexWire.WriteHeader(writer.GetSpan(DuplexWire.HeaderSize), request.Sequence, DuplexWire.StatusAnswer);
                    writer.Advance(DuplexWire.HeaderSize);
                }
                ((DuplexLoanHandler)_handler)(request, writer);
                if (loan.WrittenCount == header && !_extended)
                {
                    throw new InvalidOperationException(
                        "The handler wrote an empty response; a reference-mode client's ring frame holds at least one byte.");
                }
                loan.Commit(loan.WrittenCount);
            }
            catch (Exception e) when (IsHandlerFailure(e))
            {
                failure = e;
            }
        }
        return failure is null ? WriteStatus.Success : WriteFailure(request.Sequence, failure);
    }

    private WriteStatus WriteFailure(ulong sequence, Exception error)
    {
        Interlocked.Increment(ref _requestsFailed);
        RingWriter responses = _responses!;
        if (!_extended)
        {
            return responses.TryWrite(DuplexFailure.Create(error, responses.MaxFrameLength), Timeout.InfiniteTimeSpan, _abort.Token);
        }
        byte[] text = DuplexWire.FailureText(error, Math.Min(DuplexFailure.MaxTextLength, responses.MaxFrameLength - DuplexWire.HeaderSize));
        Span<byte> header = stackalloc byte[DuplexWire.HeaderSize];
        DuplexWire.WriteHeader(header, sequence, DuplexWire.StatusFailed);
        return responses.TryWrite(header, text, Timeout.InfiniteTimeSpan, _abort.Token);
    }

    private FrameTooLargeException TooLarge(long length, RingWriter responses) =>
        new($"The handler's {length}-byte response exceeds the {responses.MaxFrameLength - (_extended ? DuplexWire.HeaderSize : 0)}-byte " +
            $"response limit of '{responses.Name}'. Ask the client to create a larger response ring.");

    /// <summary>One request handed to the thread pool; reused once it has started (no allocation per request).</summary>
    private sealed class RequestWork(DuplexServer server) : IThreadPoolWorkItem
    {
        internal Frame Request;

        public void Execute()
        {
            Frame request = Request;
            Request = default;
            lock (server._flightLock)
            {
                server._idleWork.Push(this);
            }
            ValueTask done = server.Process(request);
            if (!done.IsCompletedSuccessfully)
            {
                // Process never throws; observe the task so nothing is left unobserved.
                _ = done.AsTask();
            }
        }
    }
}
