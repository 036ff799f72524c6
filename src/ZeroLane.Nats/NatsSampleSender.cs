using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace ZeroLane.Nats;

/// <summary>
/// Publishes samples (or ring frames) read in place from shared memory to one NATS subject with ZeroLane's headers
/// (PROTOCOL.md 16.2), splitting those larger than the server's <c>max_payload</c> into chunks. Two ways out:
/// <list type="bullet">
/// <item>The gateway's own <see cref="NatsDirectConnection"/>, when it has one: the header block is written here and the
/// payload gather-written from the shared memory to the socket. Nothing is copied or allocated per sample.</item>
/// <item>NATS.Net: the payload goes as a <see cref="ReadOnlySequence{T}"/> over the shared memory itself (NATS.Net 3.3 copies
/// it twice: into a pooled buffer, which it clears when it returns it, then into its send pipe, and allocates when its send
/// buffer is full: see <see cref="ClientAllocatedBytes"/>). Durable topics always go this way (JetStream acknowledges each
/// message).</item>
/// </list>
/// One sender per subject and thread; this class allocates nothing per sample in the steady state.
/// </summary>
internal sealed class NatsSampleSender
{
    private readonly INatsConnection _connection;
    private readonly NatsHeaders _headers = new(caseSensitive: true);
    private readonly string _publisher = NatsWire.NewHexField(16);
    private readonly string _sequence = NatsWire.NewHexField(16);
    private readonly string _timestamp = NatsWire.NewHexField(16);
    private readonly string _length = NatsWire.NewHexField(16);
    private readonly string _chunk = NatsWire.NewHexField(17);
    private readonly UnmovableMemory _memory = new();
    private readonly SequenceSerializer _serializer = new();
    private readonly INatsJSContext? _jetStream;
    private readonly string _gatewayText;
    private readonly ManualResetEventSlim _completed = new(initialState: false, spinCount: 0);
    private readonly Action _signalCompleted;
    private readonly NatsDirectConnection? _direct;
    private readonly byte[] _subjectBytes;
    private readonly byte[] _headerBlock = new byte[NatsWire.MaxHeaderBlock];
    private byte[] _partsKey = [];
    private string? _partsValue;

    /// <param name="connection">The connection to publish on.</param>
    /// <param name="subject">The subject.</param>
    /// <param name="senderId">The gateway's (or bridge's) ID, header Zl-Gw.</param>
    /// <param name="jetStream">
    /// Null for core NATS. Otherwise each message is published through JetStream and its acknowledgement awaited (retried a
    /// few times with the same message ID, which the stream uses to drop duplicates): at least once, and slower.
    /// </param>
    /// <param name="direct">The gateway's own connection, which every message goes out on instead of <paramref name="connection"/> (not with JetStream); null for none.</param>
    internal NatsSampleSender(INatsConnection connection, string subject, ulong senderId, INatsJSContext? jetStream = null,
        NatsDirectConnection? direct = null)
    {
        _connection = connection;
        _jetStream = jetStream;
        _direct = jetStream is null ? direct : null;
        _subjectBytes = Encoding.ASCII.GetBytes(subject);
        Subject = subject;
        _signalCompleted = _completed.Set;
        string gateway = NatsWire.NewHexField(16);
        NatsWire.WriteHex(gateway, senderId);
        _gatewayText = gateway;
        _headers[NatsWire.Version] = NatsWire.VersionValue;
        _headers[NatsWire.Gateway] = gateway;
        _headers[NatsWire.Publisher] = _publisher;
        _headers[NatsWire.Sequence] = _sequence;
        _headers[NatsWire.Timestamp] = _timestamp;
        _headers[NatsWire.Length] = _length;
    }

    internal string Subject { get; }

    /// <summary>NATS messages published on the gateway's own connection so far (a chunked sample counts each chunk).</summary>
    internal long MessagesSentDirect { get; private set; }

    /// <summary>NATS messages published so far (a chunked sample counts each chunk).</summary>
    internal long MessagesSent { get; private set; }

    /// <summary>
    /// Bytes NATS.Net allocated on the sending thread inside its <c>PublishAsync</c> calls so far (two reads of the thread's
    /// allocation counter per message, a few nanoseconds): what the send path allocates that is not this class's own. NATS.Net
    /// 3.3 allocates there whenever a publish finds its send buffer above its pause threshold (every message of 64 KiB and
    /// more, and any message while the socket lags): a task for its pipe's flush and a timer for the wait on it.
    /// </summary>
    internal long ClientAllocatedBytes { get; private set; }

    /// <summary>
    /// Bytes the runtime allocated on the sending thread while the wait for a pending publish registered its continuation:
    /// nothing, unless the publish completed between the look at it and the registration (the thread was preempted in
    /// between, on a loaded machine), when the runtime queues the continuation to the thread pool as a work item (about
    /// 48 B). Counted apart so tests and the bench can say so; a wait that never registers on NATS.Net's task would avoid it.
    /// </summary>
    internal long LateContinuationAllocatedBytes { get; private set; }

    /// <summary>
    /// Publishes <paramref name="sample"/>, which must lie in memory that does not move (shared memory) and stay valid until
    /// this returns. Waits while NATS.Net's send buffer is full; throws what NATS.Net throws (e.g. while disconnected).
    /// </summary>
    /// <param name="sample">The sample, in memory that does not move.</param>
    /// <param name="publisher">Its origin publisher's ID (header Zl-Pub).</param>
    /// <param name="sequence">Its origin's sequence number (header Zl-Seq).</param>
    /// <param name="timestampNanoseconds">When its origin published it (header Zl-Ts).</param>
    /// <param name="cancellationToken">Ends a wait for the socket or for NATS.Net.</param>
    /// <param name="more">
    /// The caller has more samples to send right away: on the gateway's own connection a small sample may then wait to go
    /// out with the next ones in one write (<see cref="NatsDirectConnection.Publish"/>); the caller calls
    /// <see cref="SendBatch"/> when it has none for now. Ignored through NATS.Net, which batches by itself.
    /// </param>
    internal void Send(ReadOnlySpan<byte> sample, ulong publisher, ulong sequence, long timestampNanoseconds, CancellationToken cancellationToken,
        bool more = false)
    {
        ReadOnlySpan<byte> payload = sample;
        if (NatsWire.IsMessage(sample, out int headerLength, out _))
        {
            SetParts(sample[8..headerLength]);
            payload = sample[headerLength..];
        }
        else if (_partsValue is not null)
        {
            _headers.Remove(NatsWire.Parts);
            _partsValue = null;
            _partsKey = [];
        }
        NatsWire.WriteHex(_publisher, publisher);
        NatsWire.WriteHex(_sequence, sequence);
        NatsWire.WriteHex(_timestamp, (ulong)timestampNanoseconds);
        NatsWire.WriteHex(_length, (ulong)payload.Length);
        int maxPayload = _direct is not null ? _direct.MaxPayload(cancellationToken) : _connection.ServerInfo?.MaxPayload ?? 1 << 20;
        int room = maxPayload - NatsWire.HeaderRoom - (_partsValue?.Length ?? 0);
        if (room < NatsWire.MinChunk)
        {
            throw new InvalidOperationException(
                $"The NATS server's max_payload ({maxPayload} bytes) leaves too little room for a chunk next to ZeroLane's headers: " +
                $"set max_payload to at least {NatsWire.MinChunk + NatsWire.HeaderRoom + (_partsValue?.Length ?? 0)} bytes.");
        }
        if (_direct is not null)
        {
            SendDirectly(payload, room, more, cancellationToken);
            return;
        }
        _memory.Set(payload);
        if (payload.Length <= room)
        {
            _headers.Remove(NatsWire.Chunk);
            Publish(new ReadOnlySequence<byte>(_memory.Memory), cancellationToken);
            return;
        }
        int count = (payload.Length + room - 1) / room;
        _headers[NatsWire.Chunk] = _chunk;
        for (int i = 0; i < count; i++)
        {
            NatsWire.WriteChunk(_chunk, i, count);
            int start = i * room;
            Publish(new ReadOnlySequence<byte>(_memory.Memory.Slice(start, Math.Min(room, payload.Length - start))), cancellationToken);
        }
    }

    /// <summary>Publishes on the gateway's own connection: the header block written here, the payload (in chunks of <paramref name="room"/>) read in place.</summary>
    private void SendDirectly(ReadOnlySpan<byte> payload, int room, bool more, CancellationToken cancellationToken)
    {
        if (payload.Length <= room)
        {
            _direct!.Publish(_subjectBytes, HeaderBlock(chunked: false), payload, cancellationToken, more);
            MessagesSent++;
            MessagesSentDirect++;
            return;
        }
        int count = (payload.Length + room - 1) / room;
        for (int i = 0; i < count; i++)
        {
            NatsWire.WriteChunk(_chunk, i, count);
            int start = i * room;
            _direct!.Publish(_subjectBytes, HeaderBlock(chunked: true), payload.Slice(start, Math.Min(room, payload.Length - start)), cancellationToken);
            MessagesSent++;
            MessagesSentDirect++;
        }
    }

    /// <summary>Sends what <see cref="Send"/> held back with <c>more</c> (nothing through NATS.Net).</summary>
    internal void SendBatch(CancellationToken cancellationToken) => _direct?.SendBatch(cancellationToken);

    /// <summary>
    /// The NATS header block of the next message ("NATS/1.0", one "Key: value" line per header, an empty line), written from
    /// the same header strings NATS.Net is given, so both ways put the same headers on the wire.
    /// </summary>
    private ReadOnlySpan<byte> HeaderBlock(bool chunked)
    {
        Span<byte> block = _headerBlock;
        int at = Append(block, 0, "NATS/1.0\r\n");
        at = AppendHeader(block, at, NatsWire.Version, NatsWire.VersionValue);
        at = AppendHeader(block, at, NatsWire.Gateway, _gatewayText);
        at = AppendHeader(block, at, NatsWire.Publisher, _publisher);
        at = AppendHeader(block, at, NatsWire.Sequence, _sequence);
        at = AppendHeader(block, at, NatsWire.Timestamp, _timestamp);
        at = AppendHeader(block, at, NatsWire.Length, _length);
        if (_partsValue is not null)
        {
            at = AppendHeader(block, at, NatsWire.Parts, _partsValue);
        }
        if (chunked)
        {
            at = AppendHeader(block, at, NatsWire.Chunk, _chunk);
        }
        at = Append(block, at, "\r\n");
        return block[..at];
    }

    private static int AppendHeader(Span<byte> block, int at, string key, string value)
    {
        at = Append(block, at, key);
        at = Append(block, at, ": ");
        at = Append(block, at, value);
        return Append(block, at, "\r\n");
    }

    private static int Append(Span<byte> block, int at, string text) => at + Encoding.ASCII.GetBytes(text, block[at..]);

    private void Publish(ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        if (_jetStream is not null)
        {
            PublishDurably(payload, cancellationToken);
            return;
        }
        // NATS.Net writes the headers and copies the payload into its own buffer when it serializes the message: at once
        // while connected, later while it reconnects. Hence the wait for the publish to complete before returning: only then
        // may the header strings be rewritten and the shared memory be released.
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        ValueTask pending = _connection.PublishAsync(Subject, payload, _headers, replyTo: null, _serializer, opts: null, cancellationToken);
        ClientAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
        }
        else
        {
            WaitFor(pending);
        }
        MessagesSent++;
    }

    private void PublishDurably(ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        string chunk = _headers.ContainsKey(NatsWire.Chunk) ? _chunk : "";
        var options = new NatsJSPubOpts { MsgId = $"{_gatewayText}.{_publisher}.{_sequence}.{chunk}" };
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                NATS.Client.JetStream.Models.PubAckResponse ack =
                    _jetStream!.PublishAsync(Subject, payload, _serializer, options, _headers, cancellationToken).AsTask().GetAwaiter().GetResult();
                if (!ack.Duplicate)
                {
                    // A duplicate is a message an earlier attempt stored after all.
                    ack.EnsureSuccess();
                }
                MessagesSent++;
                return;
            }
            catch (Exception e) when (attempt < 4 && e is NatsJSPublishNoResponseException or NatsTimeoutException or NatsNoRespondersException)
            {
                // No acknowledgement (the stream's leader moved, the server restarted): publish again; the message ID makes
                // the stream keep it once.
                Thread.Sleep(100 * attempt);
            }
        }
    }

    /// <summary>
    /// Blocks until <paramref name="pending"/> completes and observes its result (rethrowing its exception), allocating
    /// nothing: <c>AsTask()</c> would allocate a task on every publish that has to wait for NATS.Net's send buffer, which
    /// is every sample of 64 KiB and more. A continuation (one delegate, made once) sets an event this thread waits on.
    /// </summary>
    private void WaitFor(ValueTask pending)
    {
        if (pending.IsCompleted)
        {
            // Completed since it was first looked at: a continuation registered now would be queued to the thread pool (an
            // allocation), so take the result at once.
            pending.GetAwaiter().GetResult();
            return;
        }
        _completed.Reset();
        ValueTaskAwaiter awaiter = pending.GetAwaiter();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        awaiter.UnsafeOnCompleted(_signalCompleted);
        LateContinuationAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        _completed.Wait();
        // Exactly once: a pooled value-task source goes back to its pool here.
        awaiter.GetResult();
    }

    /// <summary>Sets the parts header from the message's lengths (bytes 8..24+8N of its encoding), reusing the last value while they repeat.</summary>
    private void SetParts(ReadOnlySpan<byte> lengths)
    {
        if (_partsValue is not null && lengths.SequenceEqual(_partsKey))
        {
            return;
        }
        uint count = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(lengths);
        var text = new StringBuilder();
        text.Append(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(lengths[8..]).ToString(CultureInfo.InvariantCulture));
        for (int i = 0; i < count; i++)
        {
            text.Append(',').Append(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(lengths[(16 + 8 * i)..]).ToString(CultureInfo.InvariantCulture));
        }
        _partsValue = text.ToString();
        _partsKey = lengths.ToArray();
        _headers[NatsWire.Parts] = _partsValue;
    }

    /// <summary>Writes each segment of the payload into NATS.Net's buffer, as it is.</summary>
    private sealed class SequenceSerializer : INatsSerialize<ReadOnlySequence<byte>>
    {
        public void Serialize(IBufferWriter<byte> bufferWriter, ReadOnlySequence<byte> value)
        {
            foreach (ReadOnlyMemory<byte> segment in value)
            {
                bufferWriter.Write(segment.Span);
            }
        }
    }

    /// <summary>
    /// A <see cref="Memory{T}"/> over memory that does not move (shared memory), pointed anew at each sample: one object
    /// for every sample instead of one per sample.
    /// </summary>
    private sealed unsafe class UnmovableMemory : MemoryManager<byte>
    {
        private byte* _pointer;
        private int _length;

        internal void Set(ReadOnlySpan<byte> span)
        {
            _pointer = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
            _length = span.Length;
        }

        public override Span<byte> GetSpan() => new(_pointer, _length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
