using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// Receives frames (<see cref="MessageFrame"/>) from a connected stream socket: the 8-byte prefix, then
/// the frame into one pooled buffer, returned as a <see cref="Message"/> whose body and parts are slices of
/// that buffer (no copy). Disposing the message returns the buffer to the pool.
/// </summary>
/// <remarks>
/// Design: every byte received is recorded in the reader's own fields (prefix bytes so far, the frame
/// buffer and how much of it is filled) before the next receive is started, and a cancelled
/// <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/> delivers no bytes. So a
/// receive cancelled at any point can simply be called again: it resumes where the last one stopped, with
/// no byte lost or duplicated. The prefix is validated (<see cref="MessageFrame.ReadPrefix"/>) before the
/// buffer is allocated, so a lying length costs nothing. Reads go into a 64 KiB staging buffer while the
/// reader waits for a prefix or for the rest of a frame smaller than that, so a stream of small messages
/// costs one receive call per many messages (their bytes are copied once from staging into their frame
/// buffers); the rest of a larger frame is received straight into its own buffer, with no copy.
/// <para>
/// Over a <see cref="Stream"/> (TLS) the stream does not promise that a cancelled read consumed nothing, so a
/// cancelled receive faults the reader there.
/// </para>
/// A malformed or truncated frame or a broken connection faults the reader: later receives throw
/// <see cref="MessageConnectionFaultedException"/>. One receive at a time.
/// </remarks>
public sealed class FrameReader : IDisposable
{
    private readonly Socket? _socket;
    private readonly Stream? _stream;
    private readonly MessageFrameLimits _limits;
    private const int StagingSize = 64 * 1024;

    // Bytes received but not yet consumed: a prefix in progress, or the start of frames read ahead.
    private readonly byte[] _staging = new byte[StagingSize];
    private int _stagedStart;
    private int _stagedEnd;
    private PooledFrameBuffer? _frame;
    private int _frameLength;
    private int _frameRead;
    private bool _ended;
    private int _busy;
    private Exception? _fault;

    /// <summary>A reader on a connected stream socket (TCP or Unix). The reader does not own the socket.</summary>
    public FrameReader(Socket socket, MessageFrameLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _limits = limits ?? MessageFrameLimits.Default;
    }

    /// <summary>A reader on a stream (for example an <see cref="System.Net.Security.SslStream"/>). The reader does not own the stream.</summary>
    public FrameReader(Stream stream, MessageFrameLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _limits = limits ?? MessageFrameLimits.Default;
    }

    /// <summary>The limits every frame is checked against before anything is allocated.</summary>
    public MessageFrameLimits Limits => _limits;

    /// <summary>True once the peer closed the stream between two frames.</summary>
    public bool IsEndOfStream => _ended;

    /// <summary>True once a receive failed (malformed or truncated frame, broken connection).</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    /// <summary>True while bytes of a frame not yet returned have arrived (after a cancelled receive, or read ahead).</summary>
    public bool HasPartialFrame => _frame is not null || Staged > 0;

    /// <summary>Frames received.</summary>
    public long FramesReceived { get; private set; }

    /// <summary>
    /// Receives the next message, or <see langword="null"/> when the peer closed the stream between two
    /// frames. The caller owns the message and must dispose it.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled; call again to resume (socket readers).</exception>
    /// <exception cref="MessageStreamTruncatedException">The stream ended inside a frame.</exception>
    /// <exception cref="MessageFrameException">The frame is malformed or larger than <see cref="Limits"/> allow.</exception>
    /// <exception cref="MessageConnectionException">The connection broke.</exception>
    /// <exception cref="MessageConnectionFaultedException">An earlier receive failed.</exception>
    public ValueTask<Message?> TryReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _fault) is Exception fault)
        {
            return ValueTask.FromException<Message?>(SocketErrors.Faulted("receiving side", fault));
        }
        if (_ended)
        {
            return ValueTask.FromResult<Message?>(null);
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Message?>(cancellationToken);
        }
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            return ValueTask.FromException<Message?>(new InvalidOperationException("Another receive is in progress on this connection; await it first (one receiver at a time)."));
        }
        return ReceiveCoreAsync(cancellationToken);
    }

    /// <summary>Receives the next message; the caller owns it and must dispose it.</summary>
    /// <exception cref="MessageConnectionClosedException">The peer closed the stream between two frames.</exception>
    /// <inheritdoc cref="TryReceiveAsync(CancellationToken)"/>
    public async ValueTask<Message> ReceiveAsync(CancellationToken cancellationToken = default) =>
        await TryReceiveAsync(cancellationToken).ConfigureAwait(false) ?? throw new MessageConnectionClosedException();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Message?> ReceiveCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                if (_frame is null)
                {
                    if (Staged < MessageFrame.PrefixSize)
                    {
                        CompactStaging();
                        int received = await ReadAsync(_staging.AsMemory(_stagedEnd), cancellationToken).ConfigureAwait(false);
                        if (received == 0)
                        {
                            if (Staged == 0)
                            {
                                _ended = true;
                                return null;
                            }
                            throw new MessageStreamTruncatedException(Staged, null);
                        }
                        _stagedEnd += received;
                        continue;
                    }
                    long length = MessageFrame.ReadPrefix(_staging.AsSpan(_stagedStart, MessageFrame.PrefixSize), _limits);
                    _stagedStart += MessageFrame.PrefixSize;
                    _frame = new PooledFrameBuffer((int)length);
                    _frameLength = (int)length;
                    _frameRead = 0;
                }

                int take = Math.Min(Staged, _frameLength - _frameRead);
                if (take > 0)
                {
                    _staging.AsSpan(_stagedStart, take).CopyTo(_frame.GetSpan()[_frameRead..]);
                    _stagedStart += take;
                    _frameRead += take;
                }
                if (_frameRead == _frameLength)
                {
                    return CompleteFrame();
                }

                // The staging buffer is empty here. The rest of a small frame is read into it (with whatever
                // follows, saving a system call per small message); a large frame is read straight into its
                // own buffer, so its bytes are not copied again.
                int missing = _frameLength - _frameRead;
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
                    int received = await ReadAsync(_frame.Memory[_frameRead.._frameLength], cancellationToken).ConfigureAwait(false);
                    if (received == 0)
                    {
                        throw Truncated();
                    }
                    _frameRead += received;
                }
            }
        }
        catch (OperationCanceledException) when (_socket is not null && cancellationToken.IsCancellationRequested)
        {
            // Resumable: every byte received so far is in the staging buffer or in _frame.
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

    private int Staged => _stagedEnd - _stagedStart;

    private Message CompleteFrame()
    {
        PooledFrameBuffer frame = _frame!;
        _frame = null;
        try
        {
            Message message = MessageFrame.Decode(frame.Memory, _limits, frame);
            FramesReceived++;
            return message;
        }
        catch
        {
            ((IDisposable)frame).Dispose();
            throw;
        }
    }

    private MessageStreamTruncatedException Truncated() =>
        new(MessageFrame.PrefixSize + (long)_frameRead, MessageFrame.PrefixSize + (long)_frameLength);

    /// <summary>Moves the staged bytes (less than a prefix) to the start of the staging buffer.</summary>
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
        ReleasePartialFrame();
    }

    private void ReleasePartialFrame()
    {
        PooledFrameBuffer? frame = Interlocked.Exchange(ref _frame, null);
        if (frame is not null)
        {
            ((IDisposable)frame).Dispose();
        }
    }

    /// <summary>Returns a partly received frame's buffer to the pool. Messages already returned are not affected.</summary>
    public void Dispose()
    {
        if (Volatile.Read(ref _busy) == 0)
        {
            ReleasePartialFrame();
        }
    }
}
