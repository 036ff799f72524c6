using System.Buffers;
using NATS.Client.Core;
using ZeroLane.Buffers;

namespace ZeroLane.Nats;

/// <summary>
/// A receiving end of a <see cref="NatsRingBridge"/>: a <see cref="RawSubscription"/> on the subject hands each message,
/// on NATS.Net's read loop, to the <see cref="SampleAssembler"/> of its sender, which rebuilds frames straight into loans
/// of the local ring, whole or not at all. The assembler waits at most <see cref="NatsRingBridgeOptions.RingFullTimeout"/>
/// for room. A timer gives up chunked frames whose next chunk does not come and notices a reader that left while
/// nothing arrives. Everything that touches the writer runs under one lock.
/// </summary>
internal sealed class NatsRingReceiver : NatsRingBridgeEnd, IRawMessageReceiver
{
    private readonly object _sync = new();
    private readonly NatsConnection _connection;
    private readonly string _subject;
    private readonly RingWriter _writer;
    private readonly NatsRingBridgeOptions _options;
    private readonly Dictionary<ulong, SampleAssembler> _senders = new();
    private readonly byte[] _headerScratch = new byte[NatsWire.MaxHeaderBlock];
    private RawSubscription? _subscription;
    private Timer? _timer;
    private SampleAssembler? _current;
    private byte[]? _metadata;
    private long _frames;
    private long _bytes;
    private long _lostAtEnd;
    private long _rejected;
    private string? _lastError;
    private bool _closed;
    private bool _ended;
    private int _disposed;

    private NatsRingReceiver(NatsConnection connection, string subject, RingWriter writer, NatsRingBridgeOptions options)
    {
        _connection = connection;
        _subject = subject;
        _writer = writer;
        _options = options;
    }

    internal static async Task<NatsRingReceiver> StartAsync(NatsConnection connection, string subject, RingWriter writer, NatsRingBridgeOptions options,
        CancellationToken cancellationToken)
    {
        var receiver = new NatsRingReceiver(connection, subject, writer, options);
        try
        {
            var subscription = new RawSubscription(connection, subject, receiver);
            receiver._subscription = subscription;
            await connection.AddSubAsync(subscription, cancellationToken).ConfigureAwait(false);
            // The server reads a connection's commands in order: its answer to this ping means it has the SUB, so the
            // metadata a sender sends on request below comes back here.
            await connection.PingAsync(cancellationToken).ConfigureAwait(false);
            var request = new NatsHeaders(caseSensitive: true) { [NatsWire.Version] = NatsWire.VersionValue };
            await connection.PublishAsync(NatsRingBridge.MetadataRequestSubject(subject), Array.Empty<byte>(), request, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            receiver._timer = new Timer(static state => ((NatsRingReceiver)state!).Sweep(), receiver, options.PollInterval, options.PollInterval);
        }
        catch
        {
            await receiver.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return receiver;
    }

    internal override NatsRingBridgeStatistics Statistics
    {
        get
        {
            lock (_sync)
            {
                long lost = _lostAtEnd, noRoom = 0;
                foreach (SampleAssembler sender in _senders.Values)
                {
                    lost += sender.Lost;
                    noRoom += sender.NoRoom;
                }
                return new NatsRingBridgeStatistics
                {
                    Frames = _frames,
                    Bytes = _bytes,
                    FramesLost = lost,
                    FramesWithoutRoom = noRoom,
                    MessagesRejected = _rejected,
                    MetadataCarried = _metadata is not null,
                    Ended = _ended,
                    LastError = _lastError,
                };
            }
        }
    }

    /// <summary>Takes one message of the subject (NATS.Net's read loop).</summary>
    public void Receive(ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }
            if (!NatsSampleHeader.TryParse(headers, _headerScratch, out NatsSampleHeader header, out string? error))
            {
                Reject(error!);
                return;
            }
            if (!header.IsZeroLane)
            {
                Reject("no ZeroLane headers (a plain NATS publisher's message on the ring's subject)");
                return;
            }
            if (header.Kind.SequenceEqual("meta"u8))
            {
                TakeMetadata(payload);
                return;
            }
            if (header.Kind.SequenceEqual("end"u8))
            {
                End(header);
                return;
            }
            if (!header.Kind.IsEmpty)
            {
                Reject($"an unknown kind '{System.Text.Encoding.ASCII.GetString(header.Kind)}'");
                return;
            }
            TakeFrame(header, payload);
        }
    }

    private void TakeFrame(in NatsSampleHeader header, in ReadOnlySequence<byte> payload)
    {
        if (!_senders.TryGetValue(header.Gateway, out SampleAssembler? sender))
        {
            sender = new SampleAssembler(_writer, _writer.MaxFrameLength, _options.RingFullTimeout);
            _senders[header.Gateway] = sender;
        }
        if (_current != sender)
        {
            // The ring has one loan at a time: another sender's half-written frame is given up (counted lost).
            _current?.GiveUp();
            _current = sender;
        }
        long noRoom = sender.NoRoom;
        long bytes = _writer.BytesWritten;
        AssemblyOutcome outcome;
        string? error;
        try
        {
            outcome = sender.Accept(header, payload, out error);
        }
        catch (Exception e) when (e is ZeroLaneException or ArgumentException)
        {
            sender.GiveUp();
            outcome = AssemblyOutcome.Rejected;
            error = e.Message;
        }
        catch (ObjectDisposedException)
        {
            Fail(WriterDisposed());
            return;
        }
        switch (outcome)
        {
            case AssemblyOutcome.Delivered:
                _frames++;
                _bytes += _writer.BytesWritten - bytes;
                break;
            case AssemblyOutcome.Rejected:
                Reject(error ?? "an invalid frame");
                break;
            case AssemblyOutcome.Dropped when sender.NoRoom > noRoom:
                if (!_writer.IsReaderConnected)
                {
                    Fail(ReaderGone());
                }
                else
                {
                    _lastError = $"Buffer '{_writer.Name}' stayed full for {_options.RingFullTimeout.TotalSeconds:0.###} s: a frame was dropped (its reader is too slow).";
                }
                break;
        }
    }

    /// <summary>Writes the metadata once (a ring's metadata is written once in its life); later copies are ignored.</summary>
    private void TakeMetadata(in ReadOnlySequence<byte> payload)
    {
        if (_metadata is not null)
        {
            // A copy asked for by another receiver, or a restarted sender's: rare, so the comparison may allocate.
            if (!payload.ToArray().AsSpan().SequenceEqual(_metadata))
            {
                _lastError = $"A sender's metadata differs from what was written to buffer '{_writer.Name}', which takes metadata once: ignored.";
            }
            return;
        }
        if (payload.IsEmpty)
        {
            Reject("empty metadata");
            return;
        }
        byte[] metadata = payload.ToArray();
        try
        {
            _writer.SetMetadata(metadata);
        }
        catch (MetadataAlreadyWrittenException)
        {
            // An earlier writer of this ring wrote it: what the reader has stays.
        }
        catch (Exception e) when (e is ZeroLaneException or InvalidOperationException)
        {
            Fail(new MetadataTooLargeException(
                $"The sender's metadata ({metadata.Length} bytes) cannot be written to buffer '{_writer.Name}' (metadata block {_writer.MetadataCapacity} bytes): " +
                $"{e.Message.TrimEnd('.')}. Create the buffer with a metadata block that large.", metadata.Length, (int)Math.Min(int.MaxValue, _writer.MetadataCapacity)));
            return;
        }
        _metadata = metadata;
    }

    /// <summary>The sender's writer disconnected: frames after the last one received count as lost; the stream is over.</summary>
    private void End(in NatsSampleHeader header)
    {
        if (_senders.TryGetValue(header.Gateway, out SampleAssembler? sender))
        {
            sender.GiveUp();
            if (sender.LastSequence != 0 && header.Sequence > sender.LastSequence)
            {
                _lostAtEnd += (long)(header.Sequence - sender.LastSequence);
            }
        }
        _ended = true;
        Close();
        _completion.TrySetResult(Statistics);
    }

    private void Sweep()
    {
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }
            try
            {
                SweepLocked();
            }
            catch (ObjectDisposedException)
            {
                Fail(WriterDisposed());
            }
        }
    }

    private void SweepLocked()
    {
        if (_current is { Assembling: true } sender && Environment.TickCount64 - sender.LastActivity > _options.ChunkTimeout.TotalMilliseconds)
        {
            sender.GiveUp();
            _lastError = $"A chunked frame waited more than {_options.ChunkTimeout.TotalSeconds:0.###} s for its next chunk: dropped.";
        }
        if (!_writer.IsReaderConnected)
        {
            Fail(ReaderGone());
        }
    }

    private static ObjectDisposedException WriterDisposed() =>
        new(nameof(RingWriter), "The ring's writer was disposed before the bridge; dispose the bridge first.");

    private ReaderGoneException ReaderGone() =>
        new($"The reader of buffer '{_writer.Name}' is gone after {_frames} frames from '{_subject}' were written to it.");

    private void Reject(string error)
    {
        _rejected++;
        _lastError = $"Dropped a message on '{_subject}': it has {error}.";
    }

    private void Fail(Exception e)
    {
        _lastError = e.Message;
        Close();
        _completion.TrySetException(e);
    }

    /// <summary>Takes nothing more and gives back a half-written frame's loan (under the lock).</summary>
    private void Close()
    {
        _closed = true;
        _current?.GiveUp();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
        if (_subscription is not null)
        {
            await _subscription.CloseAsync().ConfigureAwait(false);
        }
        lock (_sync)
        {
            Close();
        }
        _completion.TrySetException(new ObjectDisposedException(nameof(NatsRingBridge), "The bridge was stopped before the stream ended."));
    }
}
