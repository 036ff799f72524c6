using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// Receives messages (encoded as <see cref="MessageEncoding"/> describes) from a connected stream socket: the 8-byte
/// prefix, then the message into one pooled buffer, returned as a <see cref="Message"/> whose body and parts are
/// slices of that buffer (no copy). Disposing the message returns the buffer to the pool.
/// </summary>
/// <remarks>
/// Design: every byte received is recorded in the receiver's own fields (prefix bytes so far, the message
/// buffer and how much of it is filled) before the next receive is started, and a cancelled
/// <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/> delivers no bytes. So a
/// receive cancelled (or timed out) at any point can simply be called again: it resumes where the last one stopped,
/// with no byte lost or duplicated. The prefix is validated (<see cref="MessageEncoding.ReadPrefix"/>) before the
/// buffer is allocated, so a lying length costs nothing. Reads go into a 64 KiB staging buffer while the
/// receiver waits for a prefix or for the rest of a message smaller than that, so a stream of small messages
/// costs one receive call per many messages (their bytes are copied once from staging into their own
/// buffers); the rest of a larger message is received straight into its own buffer, with no copy.
/// <para>
/// Over a <see cref="Stream"/> (TLS) the stream does not promise that a cancelled read consumed nothing, so a
/// cancelled or timed-out receive faults the receiver there.
/// </para>
/// A malformed or truncated message or a broken connection faults the receiver: later receives throw
/// <see cref="MessageConnectionFaultedException"/>. One receive at a time.
/// </remarks>
public sealed class MessageReceiver : IDisposable
{
    private readonly Socket? _socket;
    private readonly Stream? _stream;
    private MessageLimits _limits;
    private const int StagingSize = 64 * 1024;

    // Bytes received but not yet consumed: a prefix in progress, or the start of messages read ahead.
    private readonly byte[] _staging = new byte[StagingSize];
    private int _stagedStart;
    private int _stagedEnd;

    // The message in progress: what is being filled, and how far (all kept across cancelled receives).
    private Phase _phase;
    private PooledMessageBuffer? _buffer;
    private int _messageLength;
    private long _messageReceived;
    private Memory<byte> _target;
    private int _targetFilled;
    private int _partCount;
    private int _headerLength;
    private int _bodyLength;
    private int _partIndex;
    private bool _partTargetSet;
    private ReadOnlyMemory<byte>[]? _parts;
    private bool _ended;
    private int _busy;
    private Exception? _fault;

    /// <summary>A receiver on a connected stream socket (TCP or Unix). The receiver does not own the socket.</summary>
    public MessageReceiver(Socket socket, MessageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _limits = limits ?? MessageLimits.Default;
    }

    /// <summary>A receiver on a stream (for example an <see cref="System.Net.Security.SslStream"/>). The receiver does not own the stream.</summary>
    public MessageReceiver(Stream stream, MessageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _limits = limits ?? MessageLimits.Default;
    }

    /// <summary>The limits every message is checked against before anything is allocated; they may be changed between receives.</summary>
    public MessageLimits Limits
    {
        get => _limits;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _limits = value;
        }
    }

    /// <summary>True once the peer closed the stream between two messages.</summary>
    public bool IsEndOfStream => _ended;

    /// <summary>True once a receive failed (malformed or truncated message, broken connection).</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    /// <summary>True while bytes of a message not yet returned have arrived (after a cancelled receive, or read ahead).</summary>
    public bool HasPartialMessage => _phase != Phase.Prefix || Staged > 0;

    /// <summary>Messages received.</summary>
    public long MessagesReceived { get; private set; }

    /// <summary>
    /// Receives the next message if one arrives within <paramref name="timeout"/>: <see cref="ReceiveStatus.Success"/> with
    /// the message (the caller owns it and must dispose it), <see cref="ReceiveStatus.TimedOut"/> (on a socket, call again to
    /// resume: nothing received is lost), or <see cref="ReceiveStatus.EndOfStream"/> when the peer closed the stream between
    /// two messages.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled; call again to resume (socket receivers).</exception>
    /// <exception cref="MessageStreamTruncatedException">The stream ended inside a message.</exception>
    /// <exception cref="MessageFormatException">The message is malformed or larger than <see cref="Limits"/> allow.</exception>
    /// <exception cref="MessageConnectionException">The connection broke.</exception>
    /// <exception cref="MessageConnectionFaultedException">An earlier receive failed.</exception>
    public ValueTask<ReceiveResult> TryReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Start(null, timeout, cancellationToken);

    /// <summary>
    /// Receives the next message like <see cref="TryReceiveAsync(TimeSpan, CancellationToken)"/>, but each part straight into
    /// memory that <paramref name="destination"/> gives (a ring loan, a mapped array): only the header and body go to a pooled
    /// buffer. The returned message's parts are the destination's memory, which it does not own. A receive cancelled or timed
    /// out in the middle resumes, when called again with the same destination, where it stopped.
    /// </summary>
    /// <inheritdoc cref="TryReceiveAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<ReceiveResult> TryReceiveAsync(IPartDestination destination, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return Start(destination, timeout, cancellationToken);
    }

    private ValueTask<ReceiveResult> Start(IPartDestination? destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _fault) is Exception fault)
        {
            return ValueTask.FromException<ReceiveResult>(SocketErrors.Faulted("receiving side", fault));
        }
        if (_ended)
        {
            return new ValueTask<ReceiveResult>(new ReceiveResult(ReceiveStatus.EndOfStream, null));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReceiveResult>(cancellationToken);
        }
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            return ValueTask.FromException<ReceiveResult>(new InvalidOperationException("Another receive is in progress on this connection; await it first (one receiver at a time)."));
        }
        bool intoParts = _phase is Phase.Head or Phase.Parts;
        if (_phase != Phase.Prefix && intoParts != (destination is not null))
        {
            Volatile.Write(ref _busy, 0);
            return ValueTask.FromException<ReceiveResult>(new InvalidOperationException(
                "A receive " + (intoParts ? "into part destinations" : "into one buffer") + " was interrupted midway; resume it the same way before receiving otherwise."));
        }
        return timeout == Timeout.InfiniteTimeSpan
            ? ReceiveWithoutTimeoutAsync(destination, cancellationToken)
            : ReceiveWithTimeoutAsync(destination, timeout, cancellationToken);
    }

    /// <summary>Receives the next message; the caller owns it and must dispose it.</summary>
    /// <exception cref="MessageConnectionClosedException">The peer closed the stream between two messages.</exception>
    /// <inheritdoc cref="TryReceiveAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<Message> ReceiveAsync(CancellationToken cancellationToken = default) =>
        ReceiveAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Receives the next message, waiting at most <paramref name="timeout"/>; the caller owns it and must dispose it.</summary>
    /// <exception cref="TimeoutException">No whole message arrived in time (on a socket, what did arrive is kept for the next receive).</exception>
    /// <exception cref="MessageConnectionClosedException">The peer closed the stream between two messages.</exception>
    /// <inheritdoc cref="TryReceiveAsync(TimeSpan, CancellationToken)"/>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Message> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReceiveResult result = await TryReceiveAsync(timeout, cancellationToken).ConfigureAwait(false);
        return result.Status switch
        {
            ReceiveStatus.Success => result.Message!,
            ReceiveStatus.TimedOut => throw new TimeoutException($"No whole message arrived within {timeout.TotalMilliseconds:0.###} ms."),
            _ => throw new MessageConnectionClosedException(),
        };
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReceiveResult> ReceiveWithoutTimeoutAsync(IPartDestination? destination, CancellationToken cancellationToken)
    {
        Message? message = await ReceiveCoreAsync(destination, cancellationToken).ConfigureAwait(false);
        return new ReceiveResult(message is null ? ReceiveStatus.EndOfStream : ReceiveStatus.Success, message);
    }

    private async ValueTask<ReceiveResult> ReceiveWithTimeoutAsync(IPartDestination? destination, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using CancellationTokenSource timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            Message? message = await ReceiveCoreAsync(destination, timer.Token).ConfigureAwait(false);
            return new ReceiveResult(message is null ? ReceiveStatus.EndOfStream : ReceiveStatus.Success, message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timer.IsCancellationRequested && _socket is not null)
        {
            // A socket receive keeps what arrived: the caller may simply try again.
            return new ReceiveResult(ReceiveStatus.TimedOut, null);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && timer.IsCancellationRequested)
        {
            throw new TimeoutException($"No whole message arrived within {timeout.TotalMilliseconds:0.###} ms; over TLS that faults the receiver.", exception);
        }
    }

    /// <summary>Where the message in progress stands.</summary>
    private enum Phase
    {
        /// <summary>Between messages: waiting for a length prefix.</summary>
        Prefix,

        /// <summary>Filling one buffer with the whole message.</summary>
        Whole,

        /// <summary>Filling a buffer with the header and body; the parts go to a destination.</summary>
        Head,

        /// <summary>Filling the parts, one destination memory after another.</summary>
        Parts,
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Message?> ReceiveCoreAsync(IPartDestination? destination, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                switch (_phase)
                {
                    case Phase.Prefix:
                        // With a destination the fixed header is needed too, to size the header-and-body buffer.
                        int needed = destination is null ? MessageEncoding.PrefixSize : MessageEncoding.PrefixSize + MessageEncoding.FixedHeaderSize;
                        if (Staged < needed)
                        {
                            if (!await StageMoreAsync(cancellationToken).ConfigureAwait(false))
                            {
                                return null;
                            }
                            continue;
                        }
                        StartMessage(destination is not null);
                        continue;
                    case Phase.Whole:
                        await FillTargetAsync(cancellationToken).ConfigureAwait(false);
                        return CompleteWhole();
                    case Phase.Head:
                        await FillTargetAsync(cancellationToken).ConfigureAwait(false);
                        MessageEncoding.ValidatePartLengths(_buffer!.GetSpan(), _partCount, _messageLength - _headerLength - _bodyLength);
                        _parts = _partCount == 0 ? [] : new ReadOnlyMemory<byte>[_partCount];
                        _partIndex = 0;
                        _partTargetSet = false;
                        _phase = Phase.Parts;
                        continue;
                    default:
                        if (_partIndex == _partCount)
                        {
                            return CompleteParts();
                        }
                        if (!_partTargetSet)
                        {
                            int length = MessageEncoding.PartLength(_buffer!.GetSpan(), _partIndex);
                            ReadOnlyMemory<byte> body = _buffer.Memory.Slice(_headerLength, _bodyLength);
                            Memory<byte> memory = await destination!.GetPartMemoryAsync(body, _partCount, _partIndex, length, cancellationToken).ConfigureAwait(false);
                            if (memory.Length < length)
                            {
                                throw new InvalidOperationException(
                                    $"The part destination gave {memory.Length} bytes for part {_partIndex}, which has {length}.");
                            }
                            SetTarget(memory[..length]);
                            _partTargetSet = true;
                        }
                        await FillTargetAsync(cancellationToken).ConfigureAwait(false);
                        _parts![_partIndex++] = _target;
                        _partTargetSet = false;
                        continue;
                }
            }
        }
        catch (OperationCanceledException) when (_socket is not null && cancellationToken.IsCancellationRequested)
        {
            // Resumable: every byte received so far is in the staging buffer or where it belongs.
            throw;
        }
        catch (SocketException exception)
        {
            MessageConnectionException wrapped = SocketErrors.Wrap(exception, "Receiving");
            Fault(wrapped);
            throw wrapped;
        }
        catch (IOException exception) when (exception.InnerException is SocketException socketException)
        {
            MessageConnectionException wrapped = SocketErrors.Wrap(socketException, "Receiving");
            Fault(wrapped);
            throw wrapped;
        }
        catch (Exception exception)
        {
            Fault(exception);
            throw;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Reads more bytes into the staging buffer; false at a clean end of stream (between messages).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> StageMoreAsync(CancellationToken cancellationToken)
    {
        CompactStaging();
        int received = await ReadAsync(_staging.AsMemory(_stagedEnd), cancellationToken).ConfigureAwait(false);
        if (received == 0)
        {
            if (Staged == 0)
            {
                _ended = true;
                return false;
            }
            if (Staged < MessageEncoding.PrefixSize)
            {
                throw new MessageStreamTruncatedException(Staged, null);
            }
            long announced = MessageEncoding.ReadPrefix(_staging.AsSpan(_stagedStart, MessageEncoding.PrefixSize), _limits);
            throw new MessageStreamTruncatedException(Staged, MessageEncoding.PrefixSize + announced);
        }
        _stagedEnd += received;
        return true;
    }

    /// <summary>Takes the prefix (checked before anything is allocated) and sets up the buffer the message goes to.</summary>
    private void StartMessage(bool intoParts)
    {
        long length = MessageEncoding.ReadPrefix(_staging.AsSpan(_stagedStart, MessageEncoding.PrefixSize), _limits);
        _messageLength = (int)length;
        _messageReceived = 0;
        if (intoParts)
        {
            ReadOnlySpan<byte> fixedHeader = _staging.AsSpan(_stagedStart + MessageEncoding.PrefixSize, MessageEncoding.FixedHeaderSize);
            (_partCount, _headerLength, _bodyLength) = MessageEncoding.ValidateFixedHeader(fixedHeader, length, _limits);
        }
        _stagedStart += MessageEncoding.PrefixSize;
        _buffer = new PooledMessageBuffer(intoParts ? _headerLength + _bodyLength : _messageLength);
        SetTarget(_buffer.Memory);
        _phase = intoParts ? Phase.Head : Phase.Whole;
    }

    private void SetTarget(Memory<byte> target)
    {
        _target = target;
        _targetFilled = 0;
    }

    /// <summary>
    /// Fills the current target: first from the staging buffer, then by receiving. What remains of a small target is
    /// received into staging (with whatever follows, saving a system call per small message); a large one straight into
    /// the target, so its bytes are not copied again.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillTargetAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int take = Math.Min(Staged, _target.Length - _targetFilled);
            if (take > 0)
            {
                _staging.AsSpan(_stagedStart, take).CopyTo(_target.Span[_targetFilled..]);
                _stagedStart += take;
                _targetFilled += take;
                _messageReceived += take;
            }
            int missing = _target.Length - _targetFilled;
            if (missing == 0)
            {
                return;
            }
            // The staging buffer is empty here.
            if (missing < _staging.Length)
            {
                _stagedStart = _stagedEnd = 0;
                int received = await ReadAsync(_staging, cancellationToken).ConfigureAwait(false);
                if (received == 0)
                {
                    throw Truncated();
                }
                _stagedEnd = received;
            }
            else
            {
                int received = await ReadAsync(_target[_targetFilled..], cancellationToken).ConfigureAwait(false);
                if (received == 0)
                {
                    throw Truncated();
                }
                _targetFilled += received;
                _messageReceived += received;
            }
        }
    }

    private int Staged => _stagedEnd - _stagedStart;

    private Message CompleteWhole()
    {
        PooledMessageBuffer buffer = _buffer!;
        _buffer = null;
        _target = default;
        _phase = Phase.Prefix;
        try
        {
            Message message = MessageEncoding.Decode(buffer.Memory, _limits, buffer);
            MessagesReceived++;
            return message;
        }
        catch
        {
            ((IDisposable)buffer).Dispose();
            throw;
        }
    }

    private Message CompleteParts()
    {
        PooledMessageBuffer buffer = _buffer!;
        ReadOnlyMemory<byte>[] parts = _parts!;
        _buffer = null;
        _parts = null;
        _target = default;
        _phase = Phase.Prefix;
        MessagesReceived++;
        return new Message(buffer.Memory.Slice(_headerLength, _bodyLength), parts, [buffer]);
    }

    private MessageStreamTruncatedException Truncated() =>
        new(MessageEncoding.PrefixSize + _messageReceived, MessageEncoding.PrefixSize + (long)_messageLength);

    /// <summary>Moves the staged bytes (less than a prefix and fixed header) to the start of the staging buffer.</summary>
    private void CompactStaging()
    {
        int staged = Staged;
        if (_stagedStart > 0)
        {
            _staging.AsSpan(_stagedStart, staged).CopyTo(_staging);
            _stagedStart = 0;
            _stagedEnd = staged;
        }
    }

    private ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken) =>
        _socket is not null
            ? _socket.ReceiveAsync(destination, SocketFlags.None, cancellationToken)
            : _stream!.ReadAsync(destination, cancellationToken);

    private void Fault(Exception exception)
    {
        Interlocked.CompareExchange(ref _fault, exception, null);
        ReleasePartialMessage();
    }

    private void ReleasePartialMessage()
    {
        PooledMessageBuffer? buffer = Interlocked.Exchange(ref _buffer, null);
        _target = default;
        _parts = null;
        if (buffer is not null)
        {
            ((IDisposable)buffer).Dispose();
        }
    }

    /// <summary>Returns a partly received message's buffer to the pool. Messages already returned are not affected.</summary>
    public void Dispose()
    {
        if (Volatile.Read(ref _busy) == 0)
        {
            ReleasePartialMessage();
        }
    }
}
