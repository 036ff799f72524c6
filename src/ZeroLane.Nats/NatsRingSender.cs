using System.Buffers;
using NATS.Client.Core;
using ZeroLane.Buffers;

namespace ZeroLane.Nats;

/// <summary>
/// The sending end of a <see cref="NatsRingBridge"/>: a thread reads the local ring's frames in place and publishes each
/// with <see cref="NatsSampleSender"/> (publisher ID 0, the frame's own sequence number), releasing it once NATS.Net has
/// copied it; the metadata goes first when it appears, and again whenever a receiver asks for it on SUBJECT._zlmeta.
/// </summary>
internal sealed class NatsRingSender : NatsRingBridgeEnd, IRawMessageReceiver
{
    private readonly NatsConnection _connection;
    private readonly string _subject;
    private readonly RingReader _reader;
    private readonly NatsRingBridgeOptions _options;
    private readonly NatsSampleSender _frames;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private RawSubscription? _requests;
    private long _framesSent;
    private long _bytesSent;
    private long _lost;
    private int _metadataWanted;
    private volatile bool _metadataSent;
    private volatile bool _ended;
    private volatile string? _lastError;
    private ulong _metadataMessages;
    private ulong _lastSequence;
    private int _disposed;

    private NatsRingSender(NatsConnection connection, string subject, RingReader reader, NatsRingBridgeOptions options)
    {
        _connection = connection;
        _subject = subject;
        _reader = reader;
        _options = options;
        Id = NatsWire.NewSenderId();
        _frames = new NatsSampleSender(connection, subject, Id);
        _thread = new Thread(Run) { IsBackground = true, Name = "ZeroLane NATS ring bridge " + subject };
    }

    internal override ulong Id { get; }

    /// <summary>Subscribes to the metadata requests, then starts the forwarding thread (unless <paramref name="run"/> is false: a test then calls <see cref="Step"/>).</summary>
    internal static async Task<NatsRingSender> StartAsync(NatsConnection connection, string subject, RingReader reader, NatsRingBridgeOptions options,
        CancellationToken cancellationToken, bool run = true)
    {
        var sender = new NatsRingSender(connection, subject, reader, options);
        var requests = new RawSubscription(connection, NatsRingBridge.MetadataRequestSubject(subject), sender);
        sender._requests = requests;
        await connection.AddSubAsync(requests, cancellationToken).ConfigureAwait(false);
        if (run)
        {
            sender._thread.Start();
        }
        return sender;
    }

    internal override NatsRingBridgeStatistics Statistics => new()
    {
        Frames = Interlocked.Read(ref _framesSent),
        Bytes = Interlocked.Read(ref _bytesSent),
        FramesLost = Interlocked.Read(ref _lost),
        MetadataCarried = _metadataSent,
        Ended = _ended,
        LastError = _lastError,
    };

    /// <summary>A receiver asks for the metadata (NATS.Net's read loop): the forwarding thread sends it before its next frame.</summary>
    public void Receive(ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload) => Volatile.Write(ref _metadataWanted, 1);

    private void Run()
    {
        CancellationToken stop = _stop.Token;
        try
        {
            while (Step(stop))
            {
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            _completion.TrySetException(new ObjectDisposedException(nameof(NatsRingBridge), "The bridge was stopped before the stream ended."));
        }
        catch (Exception e)
        {
            _lastError = e.Message;
            _completion.TrySetException(e);
        }
    }

    /// <summary>
    /// One turn of the forwarding thread: the metadata if it is due, then the next frame, or the end of the stream (false
    /// then: the stream is over and <see cref="NatsRingBridgeEnd.Completion"/> has its result). Allocates nothing while
    /// frames flow.
    /// </summary>
    internal bool Step(CancellationToken stop)
    {
        if (_reader.HasMetadata && (!_metadataSent || Interlocked.Exchange(ref _metadataWanted, 0) != 0))
        {
            SendMetadata(stop);
        }
        switch (_reader.TryRead(out Frame frame, _options.PollInterval, stop))
        {
            case ReadStatus.Success:
                using (frame)
                {
                    if (!_metadataSent && _reader.HasMetadata)
                    {
                        // Metadata the writer set just before this frame goes first, as it went first into the ring.
                        SendMetadata(stop);
                    }
                    SendFrame(frame, stop);
                }
                return true;
            case ReadStatus.TimedOut:
                return true;
            case ReadStatus.WriterDisconnected:
                if (!_metadataSent && _reader.HasMetadata)
                {
                    SendMetadata(stop);
                }
                SendEnd(stop);
                _ended = true;
                _completion.TrySetResult(Statistics);
                return false;
            default:
                throw new WriterGoneException(
                    $"The writer of buffer '{_reader.Name}' died without disconnecting after {Interlocked.Read(ref _framesSent)} frames; " +
                    "receivers were not told the stream ended.", crashed: true);
        }
    }

    private void SendFrame(Frame frame, CancellationToken stop)
    {
        // Taken from the ring: from here on it is sent or counted lost, and the end of the stream names it.
        _lastSequence = frame.Sequence;
        try
        {
            _frames.Send(frame.Span, publisher: 0, frame.Sequence, Now(), stop);
            Interlocked.Increment(ref _framesSent);
            Interlocked.Add(ref _bytesSent, frame.Length);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is NatsException or InvalidOperationException or IOException or TimeoutException)
        {
            // Not sent (e.g. NATS.Net refused it while disconnected): counted, never retried, so receivers see a gap in the
            // sequence rather than a frame late and out of order.
            Interlocked.Increment(ref _lost);
            _lastError = $"A frame of buffer '{_reader.Name}' could not be sent to '{_subject}': {e.Message}";
        }
    }

    /// <summary>Publishes the metadata as one message (kind "meta"), numbered 1, 2, ... among this sender's metadata messages.</summary>
    private void SendMetadata(CancellationToken stop)
    {
        ReadOnlySpan<byte> metadata = _reader.GetMetadata();
        int maxPayload = _connection.ServerInfo?.MaxPayload ?? 1 << 20;
        if (metadata.Length > maxPayload - NatsWire.HeaderRoom)
        {
            throw new MetadataTooLargeException(
                $"The metadata of buffer '{_reader.Name}' ({metadata.Length} bytes) does not fit in one NATS message next to the headers " +
                $"(the server's max_payload is {maxPayload} bytes): raise max_payload to at least {metadata.Length + NatsWire.HeaderRoom}.",
                metadata.Length, maxPayload - NatsWire.HeaderRoom);
        }
        _metadataMessages++;
        NatsHeaders headers = ControlHeaders(Id, "meta", _metadataMessages, metadata.Length);
        _connection.PublishAsync(_subject, metadata.ToArray(), headers, cancellationToken: stop).AsTask().GetAwaiter().GetResult();
        _metadataSent = true;
    }

    /// <summary>
    /// Publishes the end of the stream (kind "end", the sequence number of the last frame taken, empty payload), then waits
    /// for the server's answer to a ping: the server has every message before it.
    /// </summary>
    private void SendEnd(CancellationToken stop)
    {
        NatsHeaders headers = ControlHeaders(Id, "end", _lastSequence, 0);
        _connection.PublishAsync(_subject, Array.Empty<byte>(), headers, cancellationToken: stop).AsTask().GetAwaiter().GetResult();
        _connection.PingAsync(stop).AsTask().GetAwaiter().GetResult();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stop.Cancel();
        if (_thread.IsAlive)
        {
            _thread.Join();
        }
        if (_requests is not null)
        {
            try
            {
                await _requests.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The connection is gone: the server forgot the subscription with it.
            }
            await _requests.DisposeAsync().ConfigureAwait(false);
        }
        _completion.TrySetException(new ObjectDisposedException(nameof(NatsRingBridge)));
        _stop.Dispose();
    }
}
