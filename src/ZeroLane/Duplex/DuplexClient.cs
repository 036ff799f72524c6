using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using System.Text;
using ZeroLane.Buffers;

namespace ZeroLane.Duplex;

/// <summary>
/// The client end of duplex channel NAME, compatible with ZeroBuffer's reference duplex channels: it creates the
/// response ring <c>NAME_response</c> as its reader and writes requests into the server's <c>NAME_request</c>. A
/// response is a <see cref="Frame"/> read in place, under its request's sequence number; dispose it like any frame.
/// </summary>
/// <remarks>
/// Design: the k-th request written carries sequence number k (the request ring's writer counts from 1). With a
/// reference-mode server (<see cref="Mode"/>) the server answers in order, so the k-th response must carry k too: the
/// client keeps the count of requests sent and responses received, and the last request abandoned by a
/// <see cref="Request"/> that timed out (its late answer is read and dropped). A response with any other sequence number
/// than the next one expected faults the client (<see cref="DuplexSequenceMismatchException"/>): it is never handed to a
/// caller, and no later response is either. With a ZeroLane server both ends speak the extended mode: each response
/// names its request in a header, so answers may come in any order; one that arrives before its caller asks waits in a
/// table (its frame held in place), and a failed request raises <see cref="DuplexRequestFailedException"/> for that
/// request only. A dead server is noticed within <see cref="ReaderOptions.PeerCheckInterval"/>: by the response ring (its
/// writer died) or by the request ring (its reader died before it ever connected to the response ring); every pending
/// call then fails with <see cref="DuplexServerGoneException"/>, and the next call waits (within its timeout) for a new
/// server and carries on with fresh rings (<see cref="DuplexClientOptions.Reconnect"/>). Like every endpoint, a client
/// serves one caller at a time: one call, synchronous or asynchronous, in progress at once.
/// </remarks>
public sealed class DuplexClient : IDisposable
{
    private readonly DuplexClientOptions _options;
    private readonly ReaderOptions _responseRing;
    private RingReader? _responses;
    private RingWriter? _requests;
    private ulong _sent;
    private ulong _received;
    private ulong _abandonedThrough;
    // Extended mode: requests sent and not answered, those whose caller gave up, and answers waiting for their caller.
    private readonly HashSet<ulong> _outstanding = new(64);
    private readonly HashSet<ulong> _abandoned = new(16);
    private readonly Dictionary<ulong, Arrived> _arrived = new(64);
    private Exception? _fault;
    private int _busy;
    private bool _disposed;

    private DuplexClient(string name, DuplexClientOptions options, ReaderOptions responseRing)
    {
        Name = name;
        _options = options;
        _responseRing = responseRing;
    }

    /// <summary>The channel's name (its rings are NAME_request and NAME_response).</summary>
    public string Name { get; }

    /// <summary>What this client and its server speak: <see cref="DuplexMode.Extended"/> only when both offer it.</summary>
    public DuplexMode Mode { get; private set; }

    /// <summary>The largest request the server's request ring takes, in bytes.</summary>
    public int MaxRequestLength => Requests.MaxFrameLength;

    /// <summary>Requests sent whose responses have not been received (abandoned ones included until their answer arrives).</summary>
    public int PendingRequests => Mode == DuplexMode.Extended ? _outstanding.Count : (int)(_sent - _received);

    private RingWriter Requests => _requests ?? throw Gone();

    private RingReader Responses => _responses ?? throw Gone();

    /// <summary>
    /// Creates <c>NAME_response</c> and connects to the server's <c>NAME_request</c>, waiting at most
    /// <paramref name="timeout"/> for a server to create it.
    /// </summary>
    /// <exception cref="TimeoutException">No server created NAME_request in time.</exception>
    /// <exception cref="InvalidNameException">NAME_request or NAME_response is not an allowed buffer name.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">Another live client holds NAME_response.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live client is connected to NAME_request.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static DuplexClient Connect(string name, TimeSpan timeout, DuplexClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        DuplexNames.Validate(name);
        options ??= new DuplexClientOptions();
        options.Validate();
        ReaderOptions responseRing = options.Mode == DuplexMode.Extended
            ? options.ResponseRing with { AdvertisedFlags = options.ResponseRing.AdvertisedFlags | DuplexWire.ExtendedFlag }
            : options.ResponseRing;
        var client = new DuplexClient(name, options, responseRing);
        client.OpenRings(timeout, cancellationToken);
        return client;
    }

    /// <summary>Creates the response ring, then connects to the request ring; on failure leaves neither.</summary>
    private void OpenRings(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The response ring first: the server connects to it when the first request arrives.
        var responses = new RingReader(DuplexNames.Response(Name), _responseRing);
        try
        {
            RingWriter requests = RingWriter.Connect(DuplexNames.Request(Name), timeout, _options.RequestWriter, cancellationToken);
            Opened(responses, requests);
        }
        catch
        {
            responses.Dispose();
            throw;
        }
    }

    private async ValueTask OpenRingsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var responses = new RingReader(DuplexNames.Response(Name), _responseRing);
        try
        {
            RingWriter requests = await RingWriter.ConnectAsync(DuplexNames.Request(Name), timeout, _options.RequestWriter, cancellationToken)
                .ConfigureAwait(false);
            Opened(responses, requests);
        }
        catch
        {
            responses.Dispose();
            throw;
        }
    }

    private void Opened(RingReader responses, RingWriter requests)
    {
        // A response released by the caller gives its space back when the next request has been written (or the client
        // next waits for a response), so the server can take up that request first: every call publishes before it waits.
        responses.DeferReleases();
        _responses = responses;
        _requests = requests;
        Mode = _options.Mode == DuplexMode.Extended && requests.ReaderAdvertises(DuplexWire.ExtendedFlag)
            ? DuplexMode.Extended
            : DuplexMode.Reference;
        _sent = _received = _abandonedThrough = 0;
        _fault = null;
    }

    /// <summary>
    /// After the server went: releases the old rings and, if <see cref="DuplexClientOptions.Reconnect"/> allows, lets the
    /// caller wait for a new server. Returns false when the client stays faulted.
    /// </summary>
    private bool ShouldReconnect()
    {
        if (_disposed || _fault is not DuplexServerGoneException || !_options.Reconnect)
        {
            return false;
        }
        CloseRings();
        return true;
    }

    private void CloseRings()
    {
        foreach (Arrived arrived in _arrived.Values)
        {
            arrived.Frame.Dispose();
        }
        _arrived.Clear();
        _outstanding.Clear();
        _abandoned.Clear();
        _requests?.Dispose();
        _responses?.Dispose();
        _requests = null;
        _responses = null;
    }

    private void Reconnect(long deadline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (ShouldReconnect())
        {
            try
            {
                OpenRings(Remaining(deadline, timeout), cancellationToken);
            }
            catch (TimeoutException e)
            {
                throw NoNewServer(timeout, e);
            }
        }
    }

    private async ValueTask ReconnectAsync(long deadline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (ShouldReconnect())
        {
            try
            {
                await OpenRingsAsync(Remaining(deadline, timeout), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                throw NoNewServer(timeout, e);
            }
        }
    }

    private TimeoutException NoNewServer(TimeSpan timeout, TimeoutException cause) =>
        new($"The server of duplex channel '{Name}' is gone and no new server created '{DuplexNames.Request(Name)}' within {timeout}. " +
            "Start the server, then call again.", cause);

    /// <summary>
    /// Sends <paramref name="request"/> and waits at most <paramref name="timeout"/> for its response. If the time runs out
    /// (or the token is cancelled), the request stays answered by the server but its response is dropped when it arrives.
    /// </summary>
    /// <exception cref="InvalidOperationException">Pipelined requests are still waiting (receive them first), or the request is empty.</exception>
    /// <exception cref="FrameTooLargeException">The request is larger than the request ring's largest frame.</exception>
    /// <exception cref="TimeoutException">The request could not be written, or no response arrived, in time.</exception>
    /// <exception cref="DuplexServerGoneException">The server died or ended the session.</exception>
    /// <exception cref="DuplexSequenceMismatchException">The server answered out of order; the client is faulted.</exception>
    public Frame Request(ReadOnlySpan<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            long deadline = Deadline(timeout);
            Reconnect(deadline, timeout, cancellationToken);
            ThrowIfPipelined();
            ulong sequence = SendUnsynchronized(request, deadline, timeout, cancellationToken);
            try
            {
                return ReceiveUnsynchronized(sequence, Remaining(deadline, timeout), cancellationToken);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                Abandon(sequence);
                throw;
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>The asynchronous form of <see cref="Request"/>: waits without blocking a thread.</summary>
    /// <exception cref="InvalidOperationException">Pipelined requests are still waiting (receive them first), or the request is empty.</exception>
    /// <exception cref="FrameTooLargeException">The request is larger than the request ring's largest frame.</exception>
    /// <exception cref="TimeoutException">The request could not be written, or no response arrived, in time.</exception>
    /// <exception cref="DuplexServerGoneException">The server died or ended the session.</exception>
    /// <exception cref="DuplexSequenceMismatchException">The server answered out of order; the client is faulted.</exception>
    public async ValueTask<Frame> RequestAsync(ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            long deadline = Deadline(timeout);
            await ReconnectAsync(deadline, timeout, cancellationToken).ConfigureAwait(false);
            ThrowIfPipelined();
            ulong sequence = await SendUnsynchronizedAsync(request, deadline, timeout, cancellationToken).ConfigureAwait(false);
            try
            {
                return await ReceiveUnsynchronizedAsync(sequence, Remaining(deadline, timeout), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                Abandon(sequence);
                throw;
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Sends a request without waiting for its response (pipelining) and returns its sequence number, which
    /// <see cref="ReceiveResponse"/> takes. Responses come back in the order the requests were sent.
    /// </summary>
    /// <exception cref="InvalidOperationException">The request is empty.</exception>
    /// <exception cref="FrameTooLargeException">The request is larger than the request ring's largest frame.</exception>
    /// <exception cref="TimeoutException">The request ring stayed full for <paramref name="timeout"/>.</exception>
    /// <exception cref="DuplexServerGoneException">The server is gone.</exception>
    public ulong SendRequest(ReadOnlySpan<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            long deadline = Deadline(timeout);
            Reconnect(deadline, timeout, cancellationToken);
            return SendUnsynchronized(request, deadline, timeout, cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>The asynchronous form of <see cref="SendRequest"/>: waits for room in the request ring without blocking a thread.</summary>
    /// <exception cref="InvalidOperationException">The request is empty.</exception>
    /// <exception cref="FrameTooLargeException">The request is larger than the request ring's largest frame.</exception>
    /// <exception cref="TimeoutException">The request ring stayed full for <paramref name="timeout"/>.</exception>
    /// <exception cref="DuplexServerGoneException">The server is gone.</exception>
    public async ValueTask<ulong> SendRequestAsync(ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            long deadline = Deadline(timeout);
            await ReconnectAsync(deadline, timeout, cancellationToken).ConfigureAwait(false);
            return await SendUnsynchronizedAsync(request, deadline, timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Waits at most <paramref name="timeout"/> for the response to the request <see cref="SendRequest"/> numbered
    /// <paramref name="sequence"/>. In the reference mode it must be the oldest one waiting; in the extended mode any
    /// request waiting may be received, in any order. A timeout leaves it waiting: call again.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="sequence"/> is not a request waiting for its answer (in the reference mode: not the oldest).</exception>
    /// <exception cref="DuplexRequestFailedException">The server's handler failed this request (extended mode); the client carries on.</exception>
    /// <exception cref="TimeoutException">No response arrived in time.</exception>
    /// <exception cref="DuplexServerGoneException">The server died or ended the session.</exception>
    /// <exception cref="DuplexSequenceMismatchException">The server answered out of order; the client is faulted.</exception>
    public Frame ReceiveResponse(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            return ReceiveUnsynchronized(sequence, timeout, cancellationToken);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>The asynchronous form of <see cref="ReceiveResponse"/>.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="sequence"/> is not the oldest request waiting for its answer.</exception>
    /// <exception cref="TimeoutException">No response arrived in time.</exception>
    /// <exception cref="DuplexServerGoneException">The server died or ended the session.</exception>
    /// <exception cref="DuplexSequenceMismatchException">The server answered out of order; the client is faulted.</exception>
    public async ValueTask<Frame> ReceiveResponseAsync(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            return await ReceiveUnsynchronizedAsync(sequence, timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Disconnects from the request ring (the server then ends this client's session) and removes the response ring.
    /// Responses are views of the response ring: dispose them before the client. Answers that arrived and were never
    /// asked for are released.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        CloseRings();
    }

    private ulong SendUnsynchronized(ReadOnlySpan<byte> request, long deadline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckRequest(request.Length);
        WriteStatus status = Requests.TryWrite(request, Remaining(deadline, timeout), cancellationToken);
        if (ServerWentWhileIdle(status))
        {
            Reconnect(deadline, timeout, cancellationToken);
            CheckRequest(request.Length);
            status = Requests.TryWrite(request, Remaining(deadline, timeout), cancellationToken);
        }
        return Sent(status, timeout);
    }

    private async ValueTask<ulong> SendUnsynchronizedAsync(ReadOnlyMemory<byte> request, long deadline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckRequest(request.Length);
        WriteStatus status = await Requests.TryWriteAsync(request, Remaining(deadline, timeout), cancellationToken).ConfigureAwait(false);
        if (ServerWentWhileIdle(status))
        {
            await ReconnectAsync(deadline, timeout, cancellationToken).ConfigureAwait(false);
            CheckRequest(request.Length);
            status = await Requests.TryWriteAsync(request, Remaining(deadline, timeout), cancellationToken).ConfigureAwait(false);
        }
        return Sent(status, timeout);
    }

    /// <summary>
    /// True when a request could not be written because the server is gone and no caller waits for an answer from it
    /// (only abandoned requests, if any): nothing is lost, so with <see cref="DuplexClientOptions.Reconnect"/> the call
    /// waits for a new server and sends its request there. Marks the client's server as gone.
    /// </summary>
    private bool ServerWentWhileIdle(WriteStatus status)
    {
        if (status != WriteStatus.ReaderGone)
        {
            return false;
        }
        Fault(ServerGone(crashed: null));
        bool callerWaiting = Mode == DuplexMode.Reference ? NextExpected <= _sent : _outstanding.Count > _abandoned.Count;
        return _options.Reconnect && !callerWaiting;
    }

    private void CheckRequest(int length)
    {
        ThrowIfFaulted();
        if (length == 0)
        {
            throw new InvalidOperationException("A request holds at least one byte: a ring frame cannot be empty.");
        }
        RingWriter requests = Requests;
        if (length > requests.MaxFrameLength)
        {
            throw new FrameTooLargeException(
                $"The {length}-byte request exceeds the {requests.MaxFrameLength}-byte frame limit of '{requests.Name}', the request ring the server " +
                "created. Send a smaller request, or start the server with a larger request ring (DuplexServerOptions.RequestRing.PayloadSize).");
        }
    }

    private ulong Sent(WriteStatus status, TimeSpan timeout)
    {
        _responses?.PublishDeferredReleases();
        switch (status)
        {
            case WriteStatus.Success:
                ulong sequence = ++_sent;
                if (Mode == DuplexMode.Extended)
                {
                    _outstanding.Add(sequence);
                }
                return sequence;
            case WriteStatus.TimedOut:
                throw new TimeoutException($"The request ring of duplex channel '{Name}' stayed full for {timeout}: the server is not keeping up.");
            default:
                Fault(ServerGone(crashed: null));
                ThrowIfFaulted();
                return 0;
        }
    }

    /// <summary>A caller gave up on <paramref name="sequence"/>: its answer is dropped when it arrives.</summary>
    private void Abandon(ulong sequence)
    {
        if (Mode == DuplexMode.Reference)
        {
            _abandonedThrough = Math.Max(_abandonedThrough, sequence);
        }
        else if (_outstanding.Contains(sequence))
        {
            _abandoned.Add(sequence);
        }
    }

    private ulong NextExpected => Math.Max(_received, _abandonedThrough) + 1;

    private void CheckReceivable(ulong sequence)
    {
        ThrowIfFaulted();
        if (Mode == DuplexMode.Extended)
        {
            if (!_outstanding.Contains(sequence) || _abandoned.Contains(sequence))
            {
                throw new InvalidOperationException(
                    $"Request {sequence} is not waiting for its answer on duplex channel '{Name}' ({_sent} sent, {_outstanding.Count} waiting): " +
                    "it was never sent, its answer was already received, or its caller gave up on it.");
            }
            return;
        }
        if (sequence > _sent || sequence <= _received || sequence != NextExpected)
        {
            throw new InvalidOperationException(
                $"Request {sequence} is not the oldest request waiting for its answer on duplex channel '{Name}' (that is {NextExpected}; " +
                $"{_sent} sent, {_received} answered). Responses arrive in the order the requests were sent: receive them in that order.");
        }
    }

    private Frame ReceiveUnsynchronized(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (TryTakeArrived(sequence, out Frame early))
        {
            return early;
        }
        CheckReceivable(sequence);
        long deadline = Deadline(timeout);
        RingReader responses = Responses;
        while (true)
        {
            responses.PublishDeferredReleases();
            TimeSpan slice = Slice(deadline, timeout);
            ReadStatus status = responses.TryRead(out Frame frame, slice, cancellationToken);
            if (Accept(status, frame, sequence, deadline, timeout) is { } response)
            {
                return response;
            }
        }
    }

    private async ValueTask<Frame> ReceiveUnsynchronizedAsync(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (TryTakeArrived(sequence, out Frame early))
        {
            return early;
        }
        CheckReceivable(sequence);
        long deadline = Deadline(timeout);
        RingReader responses = Responses;
        while (true)
        {
            responses.PublishDeferredReleases();
            TimeSpan slice = Slice(deadline, timeout);
            ReadResult result = await responses.TryReadAsync(slice, cancellationToken).ConfigureAwait(false);
            if (Accept(result.Status, result.Frame, sequence, deadline, timeout) is { } response)
            {
                return response;
            }
        }
    }

    /// <summary>
    /// An answer to <paramref name="sequence"/> that arrived while the caller waited for another one (extended mode). It is
    /// handed out even after the server went: it was written before.
    /// </summary>
    private bool TryTakeArrived(ulong sequence, out Frame response)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_arrived.Count == 0 || _fault is DuplexSequenceMismatchException || !_arrived.Remove(sequence, out Arrived arrived))
        {
            response = default;
            return false;
        }
        response = Deliver(arrived);
        return true;
    }

    /// <summary>The response, or null to wait again (a dropped late answer, or a slice of the wait that ended).</summary>
    private Frame? Accept(ReadStatus status, Frame frame, ulong sequence, long deadline, TimeSpan timeout)
    {
        switch (status)
        {
            case ReadStatus.Success:
                return Mode == DuplexMode.Extended ? AcceptExtended(frame, sequence) : AcceptInOrder(frame);
            case ReadStatus.WriterDisconnected:
                Fault(ServerGone(crashed: false));
                break;
            case ReadStatus.WriterDied:
                Fault(ServerGone(crashed: true));
                break;
            default:
                if (!Requests.IsReaderConnected)
                {
                    // The server is gone (the request ring tells even when it died before it connected to the response
                    // ring). Answers it wrote before it went are still delivered: look once more.
                    ReadStatus last = Responses.TryRead(out Frame late, TimeSpan.Zero);
                    if (last == ReadStatus.Success)
                    {
                        return Accept(last, late, sequence, deadline, timeout);
                    }
                    Fault(ServerGone(crashed: last switch
                    {
                        ReadStatus.WriterDied => true,
                        ReadStatus.WriterDisconnected => false,
                        _ => null,
                    }));
                    break;
                }
                if (timeout != Timeout.InfiniteTimeSpan && Environment.TickCount64 >= deadline)
                {
                    throw new TimeoutException(
                        $"No response to request {sequence} arrived on duplex channel '{Name}' within {timeout}; the server is alive but has not answered yet.");
                }
                return null;
        }
        ThrowIfFaulted();
        return null;
    }

    /// <summary>Reference mode: the response must be the next one in order.</summary>
    private Frame? AcceptInOrder(Frame frame)
    {
        ulong expected = _received + 1;
        if (frame.Sequence != expected)
        {
            frame.Dispose();
            Fault(new DuplexSequenceMismatchException(
                $"Duplex channel '{Name}': a response carried sequence {frame.Sequence}, but the oldest request waiting for its answer is " +
                $"{expected}. The server does not answer every request exactly once and in order, so no response can be matched to its " +
                "request any more. Dispose this client, fix or restart the server, and connect again.", expected, frame.Sequence));
            ThrowIfFaulted();
        }
        _received = expected;
        if (expected <= _abandonedThrough)
        {
            // The late answer to a request whose caller gave up.
            frame.Dispose();
            return null;
        }
        return frame;
    }

    /// <summary>Extended mode: the header names the request; an answer to another request waits for its caller.</summary>
    private Frame? AcceptExtended(Frame frame, ulong sequence)
    {
        if (frame.Length < DuplexWire.HeaderSize)
        {
            frame.Dispose();
            FaultProtocol($"a {frame.Length}-byte response frame, shorter than the {DuplexWire.HeaderSize}-byte extended-mode header", sequence, 0);
        }
        (ulong answered, uint status) = DuplexWire.ReadHeader(frame.Span);
        if (status is not (DuplexWire.StatusAnswer or DuplexWire.StatusFailed))
        {
            frame.Dispose();
            FaultProtocol($"a response with status {status} (known: 0 answer, 1 failed)", sequence, answered);
        }
        if (!_outstanding.Remove(answered))
        {
            frame.Dispose();
            FaultProtocol($"a response to request {answered}, which is not waiting for an answer", sequence, answered);
        }
        _received++;
        var arrived = new Arrived(frame.Skip(DuplexWire.HeaderSize, answered), status == DuplexWire.StatusFailed);
        if (_abandoned.Remove(answered))
        {
            frame.Dispose();
            return null;
        }
        if (answered != sequence)
        {
            _arrived.Add(answered, arrived);
            return null;
        }
        return Deliver(arrived);
    }

    /// <summary>The answer, or for a failed request its release and <see cref="DuplexRequestFailedException"/>.</summary>
    private Frame Deliver(Arrived arrived)
    {
        if (!arrived.Failed)
        {
            return arrived.Frame;
        }
        string text;
        using (arrived.Frame)
        {
            text = Encoding.UTF8.GetString(arrived.Frame.Span);
        }
        throw new DuplexRequestFailedException(
            $"The server of duplex channel '{Name}' failed request {arrived.Frame.Sequence}: {text}. The channel and the other requests are unaffected.",
            text);
    }

    [DoesNotReturn]
    private void FaultProtocol(string what, ulong expected, ulong actual)
    {
        Fault(new DuplexSequenceMismatchException(
            $"Duplex channel '{Name}': the server sent {what}. It does not speak the extended mode correctly, so no response can be matched " +
            "to its request any more. Dispose this client, fix or restart the server, and connect again.", expected, actual));
        ThrowIfFaulted();
        throw new UnreachableException();
    }

    /// <summary>The exception for a server that is gone; <paramref name="crashed"/> null when the rings cannot tell how it left.</summary>
    private DuplexServerGoneException ServerGone(bool? crashed)
    {
        int pending = PendingRequests;
        string how = crashed switch
        {
            true => "died (killed or crashed)",
            false => "stopped or ended this client's session",
            null => "is gone (it stopped or died)",
        };
        return new DuplexServerGoneException(
            $"The server of duplex channel '{Name}' {how} with {pending} request(s) unanswered; they never will be. " +
            (_options.Reconnect
                ? "The next call waits for a new server on the channel (within its timeout)."
                : "Dispose this client and connect again once a server runs."),
            crashed == true);
    }

    private Exception Gone() => _fault ?? (_disposed ? new ObjectDisposedException(nameof(DuplexClient)) : ServerGone(crashed: null));

    private void Fault(Exception error) => _fault ??= error;

    private void ThrowIfFaulted()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is { } fault)
        {
            ExceptionDispatchInfo.Throw(fault);
        }
    }

    private void ThrowIfPipelined()
    {
        ThrowIfFaulted();
        if (Mode == DuplexMode.Reference && _sent != _received && NextExpected <= _sent)
        {
            throw new InvalidOperationException(
                $"{_sent - Math.Max(_received, _abandonedThrough)} pipelined request(s) on duplex channel '{Name}' still wait for their responses; " +
                "receive them (ReceiveResponse) before calling Request, or speak the extended mode, where answers come in any order.");
        }
    }

    private void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException($"Another call is in progress on duplex client '{Name}'; a client serves one call at a time.");
        }
    }

    private void Exit() => Volatile.Write(ref _busy, 0);

    private static long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);

    private static TimeSpan Remaining(long deadline, TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? timeout : TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));

    /// <summary>The next wait: at most one peer-check interval, so a dead server is noticed through the request ring too.</summary>
    private TimeSpan Slice(long deadline, TimeSpan timeout)
    {
        TimeSpan remaining = Remaining(deadline, timeout);
        TimeSpan interval = _responseRing.PeerCheckInterval;
        return timeout == Timeout.InfiniteTimeSpan || remaining > interval ? interval : remaining;
    }

    /// <summary>An answer that arrived before its caller asked for it (extended mode).</summary>
    private readonly record struct Arrived(Frame Frame, bool Failed);
}
