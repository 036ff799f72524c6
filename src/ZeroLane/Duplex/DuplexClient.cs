using System.Runtime.ExceptionServices;
using ZeroLane.Buffers;

namespace ZeroLane.Duplex;

/// <summary>
/// The client end of duplex channel NAME, compatible with ZeroBuffer's reference duplex channels: it creates the
/// response ring <c>NAME_response</c> as its reader and writes requests into the server's <c>NAME_request</c>. A
/// response is a <see cref="Frame"/> read in place; dispose it like any frame.
/// </summary>
/// <remarks>
/// Design: the k-th request written carries sequence number k (the request ring's writer counts from 1) and the server
/// answers in order, so the k-th response must carry k too. The client keeps three counters: requests sent, responses
/// received, and the last request abandoned by a <see cref="Request"/> that timed out (its late answer is read and
/// dropped). A response with any other sequence number than the next one expected faults the client
/// (<see cref="DuplexSequenceMismatchException"/>): it is never handed to a caller, and no later response is either.
/// A dead server is noticed within <see cref="ReaderOptions.PeerCheckInterval"/>: by the response ring (its writer
/// died) or by the request ring (its reader died before it ever connected to the response ring); every pending and later
/// call then fails with <see cref="DuplexServerGoneException"/>. Like every endpoint, a client serves one caller at a
/// time: one call, synchronous or asynchronous, in progress at once.
/// </remarks>
public sealed class DuplexClient : IDisposable
{
    private readonly RingReader _responses;
    private readonly RingWriter _requests;
    private readonly TimeSpan _peerCheckInterval;
    private ulong _sent;
    private ulong _received;
    private ulong _abandonedThrough;
    private Exception? _fault;
    private int _busy;
    private bool _disposed;

    private DuplexClient(string name, RingReader responses, RingWriter requests, TimeSpan peerCheckInterval)
    {
        Name = name;
        _responses = responses;
        _requests = requests;
        _peerCheckInterval = peerCheckInterval;
    }

    /// <summary>The channel's name (its rings are NAME_request and NAME_response).</summary>
    public string Name { get; }

    /// <summary>The largest request the server's request ring takes, in bytes.</summary>
    public int MaxRequestLength => _requests.MaxFrameLength;

    /// <summary>Requests sent whose responses have not been received (abandoned ones included until their answer arrives).</summary>
    public int PendingRequests => (int)(_sent - _received);

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
        // The response ring first: the server connects to it when the first request arrives.
        var responses = new RingReader(DuplexNames.Response(name), options.ResponseRing);
        try
        {
            RingWriter requests = RingWriter.Connect(DuplexNames.Request(name), timeout, options.RequestWriter, cancellationToken);
            return new DuplexClient(name, responses, requests, options.ResponseRing.PeerCheckInterval);
        }
        catch
        {
            responses.Dispose();
            throw;
        }
    }

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
            ThrowIfPipelined();
            long deadline = Deadline(timeout);
            ulong sequence = SendUnsynchronized(request, timeout, cancellationToken);
            try
            {
                return ReceiveUnsynchronized(sequence, Remaining(deadline, timeout), cancellationToken);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                _abandonedThrough = sequence;
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
            ThrowIfPipelined();
            long deadline = Deadline(timeout);
            ulong sequence = await SendUnsynchronizedAsync(request, timeout, cancellationToken).ConfigureAwait(false);
            try
            {
                return await ReceiveUnsynchronizedAsync(sequence, Remaining(deadline, timeout), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                _abandonedThrough = sequence;
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
            return SendUnsynchronized(request, timeout, cancellationToken);
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
            return await SendUnsynchronizedAsync(request, timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Waits at most <paramref name="timeout"/> for the response to the request <see cref="SendRequest"/> numbered
    /// <paramref name="sequence"/>, which must be the oldest one waiting. A timeout leaves it waiting: call again.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="sequence"/> is not the oldest request waiting for its answer.</exception>
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
    /// Responses are views of the response ring: dispose them before the client.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _requests.Dispose();
        _responses.Dispose();
    }

    private ulong SendUnsynchronized(ReadOnlySpan<byte> request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckRequest(request.Length);
        WriteStatus status = _requests.TryWrite(request, timeout, cancellationToken);
        return Sent(status, timeout);
    }

    private async ValueTask<ulong> SendUnsynchronizedAsync(ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckRequest(request.Length);
        WriteStatus status = await _requests.TryWriteAsync(request, timeout, cancellationToken).ConfigureAwait(false);
        return Sent(status, timeout);
    }

    private void CheckRequest(int length)
    {
        ThrowIfFaulted();
        if (length == 0)
        {
            throw new InvalidOperationException("A request holds at least one byte: a ring frame cannot be empty.");
        }
        if (length > _requests.MaxFrameLength)
        {
            throw new FrameTooLargeException(
                $"The {length}-byte request exceeds the {_requests.MaxFrameLength}-byte frame limit of '{_requests.Name}', the request ring the server " +
                "created. Send a smaller request, or start the server with a larger request ring (DuplexServerOptions.RequestRing.PayloadSize).");
        }
    }

    private ulong Sent(WriteStatus status, TimeSpan timeout)
    {
        switch (status)
        {
            case WriteStatus.Success:
                return ++_sent;
            case WriteStatus.TimedOut:
                throw new TimeoutException($"The request ring of duplex channel '{Name}' stayed full for {timeout}: the server is not keeping up.");
            default:
                Fault(ServerGone(crashed: null));
                ThrowIfFaulted();
                return 0;
        }
    }

    private ulong NextExpected => Math.Max(_received, _abandonedThrough) + 1;

    private void CheckReceivable(ulong sequence)
    {
        ThrowIfFaulted();
        if (sequence > _sent || sequence <= _received || sequence != NextExpected)
        {
            throw new InvalidOperationException(
                $"Request {sequence} is not the oldest request waiting for its answer on duplex channel '{Name}' (that is {NextExpected}; " +
                $"{_sent} sent, {_received} answered). Responses arrive in the order the requests were sent: receive them in that order.");
        }
    }

    private Frame ReceiveUnsynchronized(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckReceivable(sequence);
        long deadline = Deadline(timeout);
        while (true)
        {
            TimeSpan slice = Slice(deadline, timeout);
            ReadStatus status = _responses.TryRead(out Frame frame, slice, cancellationToken);
            if (Accept(status, frame, sequence, deadline, timeout) is { } response)
            {
                return response;
            }
        }
    }

    private async ValueTask<Frame> ReceiveUnsynchronizedAsync(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckReceivable(sequence);
        long deadline = Deadline(timeout);
        while (true)
        {
            TimeSpan slice = Slice(deadline, timeout);
            ReadResult result = await _responses.TryReadAsync(slice, cancellationToken).ConfigureAwait(false);
            if (Accept(result.Status, result.Frame, sequence, deadline, timeout) is { } response)
            {
                return response;
            }
        }
    }

    /// <summary>The response, or null to wait again (a dropped late answer, or a slice of the wait that ended).</summary>
    private Frame? Accept(ReadStatus status, Frame frame, ulong sequence, long deadline, TimeSpan timeout)
    {
        switch (status)
        {
            case ReadStatus.Success:
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
            case ReadStatus.WriterDisconnected:
                Fault(ServerGone(crashed: false));
                break;
            case ReadStatus.WriterDied:
                Fault(ServerGone(crashed: true));
                break;
            default:
                if (!_requests.IsReaderConnected)
                {
                    // The server is gone (the request ring tells even when it died before it connected to the response
                    // ring). Answers it wrote before it went are still delivered: look once more.
                    ReadStatus last = _responses.TryRead(out Frame late, TimeSpan.Zero);
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

    /// <summary>The exception for a server that is gone; <paramref name="crashed"/> null when the rings cannot tell how it left.</summary>
    private DuplexServerGoneException ServerGone(bool? crashed)
    {
        ulong pending = _sent - _received;
        string how = crashed switch
        {
            true => "died (killed or crashed)",
            false => "stopped or ended this client's session",
            null => "is gone (it stopped or died)",
        };
        return new DuplexServerGoneException(
            $"The server of duplex channel '{Name}' {how} with {pending} request(s) unanswered; they never will be. " +
            "Dispose this client and connect again once a server runs.",
            crashed == true);
    }

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
        if (_sent != _received && NextExpected <= _sent)
        {
            throw new InvalidOperationException(
                $"{_sent - Math.Max(_received, _abandonedThrough)} pipelined request(s) on duplex channel '{Name}' still wait for their responses; " +
                "receive them (ReceiveResponse) before calling Request.");
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
        return timeout == Timeout.InfiniteTimeSpan || remaining > _peerCheckInterval ? _peerCheckInterval : remaining;
    }
}
