using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ZeroLane.Posix;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// Sends messages (encoded as <see cref="MessageEncoding"/> describes) on a connected stream socket with one vectored
/// system call per message (or per batch of messages) where the socket accepts it: the header, the body and every part
/// go to <c>sendmsg</c> as separate iovecs, so no user-space code copies a part.
/// </summary>
/// <remarks>
/// Design: a send pins every segment (<see cref="ReadOnlyMemory{T}.Pin"/>), then calls
/// <c>sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL)</c> with up to <c>IOV_MAX</c> (1,024) iovecs, advancing through
/// them after partial writes and retrying EINTR, until the socket would block. If everything went out the
/// send completes synchronously without allocating. Otherwise (EAGAIN) the rest of the current segment is
/// handed to <see cref="Socket.SendAsync(ReadOnlyMemory{byte}, SocketFlags, CancellationToken)"/>, which
/// waits for the socket to be writable and sends it in place, and the vectored calls resume after it.
/// Segments stay pinned until the send completes; the caller may reuse them once the returned task completes.
/// <para>
/// Cancellation: a token already cancelled when a send starts throws <see cref="OperationCanceledException"/>
/// and writes nothing; the sender stays usable. A send cancelled after it started may have written part of
/// the message: the peer would read the next message's bytes as the rest of this one, so the sender becomes
/// faulted and every later send throws <see cref="MessageConnectionFaultedException"/>. The only safe thing
/// left to do with the connection is to dispose it. A failed send (broken connection) faults the sender too.
/// </para>
/// <para>
/// Over a <see cref="Stream"/> (TLS) the header and each segment are written to the stream one after another;
/// the stream (for example <see cref="System.Net.Security.SslStream"/>) copies them while encrypting.
/// </para>
/// One send at a time: concurrent sends throw <see cref="InvalidOperationException"/>.
/// </remarks>
public sealed class MessageSender : IDisposable
{
    private readonly Socket? _socket;
    private readonly SafeHandle? _handle;
    private readonly Stream? _stream;
    private byte[] _header = new byte[MessageEncoding.HeaderSize(8)];
    private ReadOnlyMemory<byte>[] _segments = new ReadOnlyMemory<byte>[16];
    private int[] _lengths = new int[16];
    private MemoryHandle[] _pins = new MemoryHandle[16];
    private int _count;
    private int _pinned;
    private int _index;
    private int _offset;
    private long _bytesSentNow;
    private int _busy;
    private Exception? _fault;
    private volatile bool _disposed;

    /// <summary>A sender on a connected stream socket (TCP or Unix). The sender does not own the socket.</summary>
    public MessageSender(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.SocketType != SocketType.Stream)
        {
            throw new ArgumentException("Messages need a stream socket (TCP or a Unix stream socket).", nameof(socket));
        }
        _socket = socket;
        _handle = socket.SafeHandle;
    }

    /// <summary>A sender on a stream (for example an <see cref="System.Net.Security.SslStream"/>). The sender does not own the stream.</summary>
    public MessageSender(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    /// <summary>True once a send was cancelled midway or failed: the stream no longer lines up with message boundaries.</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    /// <summary>Messages sent completely.</summary>
    public long MessagesSent { get; private set; }

    /// <summary>Bytes sent, prefixes and headers included.</summary>
    public long BytesSent { get; private set; }

    /// <summary>
    /// Sends <paramref name="message"/>. The message (and its segments) must stay alive and unchanged until the
    /// returned task completes; the sender does not dispose it.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled; if any byte may have been written the sender is now faulted.</exception>
    /// <exception cref="MessageConnectionException">The connection broke; the sender is now faulted.</exception>
    /// <exception cref="MessageConnectionFaultedException">An earlier send was cancelled midway or failed.</exception>
    /// <exception cref="MappedArrayFormatException">A part mapped from an array file whose pages were lost (another process truncated it); nothing was sent and the sender is still usable.</exception>
    /// <exception cref="ObjectDisposedException">The sender was disposed.</exception>
    public ValueTask SendAsync(Message message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        Enter(cancellationToken);
        try
        {
            // A part whose mapped file already shrank reads as zeros: refuse before anything is sent (the sender stays usable).
            message.ThrowIfContentLost();
            int segments = 1 + message.PartCount + 1;
            EnsureSegments(segments);
            int headerSize = MessageEncoding.HeaderSize(message.PartCount);
            EnsureHeader(headerSize);
            MessageEncoding.WriteHeader(message, _header);
            _segments[0] = new ReadOnlyMemory<byte>(_header, 0, headerSize);
            _count = 1 + message.CopySegmentsTo(_segments.AsSpan(1));
        }
        catch
        {
            Clear();
            Exit();
            throw;
        }
        return SendPrepared(1, cancellationToken);
    }

    /// <summary>
    /// Sends several messages, each encoded on its own, gathered into as few vectored calls as possible (one
    /// for small messages). The peer receives them one by one. The messages must stay alive until the task completes.
    /// </summary>
    /// <inheritdoc cref="SendAsync(Message, CancellationToken)"/>
    public ValueTask SendAsync(ReadOnlySpan<Message> messages, CancellationToken cancellationToken = default)
    {
        Enter(cancellationToken);
        try
        {
            int segments = 0, headers = 0;
            foreach (Message message in messages)
            {
                ArgumentNullException.ThrowIfNull(message, nameof(messages));
                message.ThrowIfContentLost();
                segments += 2 + message.PartCount;
                headers += MessageEncoding.HeaderSize(message.PartCount);
            }
            EnsureSegments(segments);
            EnsureHeader(headers);
            int count = 0, position = 0;
            foreach (Message message in messages)
            {
                int size = MessageEncoding.WriteHeader(message, _header.AsSpan(position));
                _segments[count++] = new ReadOnlyMemory<byte>(_header, position, size);
                position += size;
                count += message.CopySegmentsTo(_segments.AsSpan(count));
            }
            _count = count;
        }
        catch
        {
            Clear();
            Exit();
            throw;
        }
        return SendPrepared(messages.Length, cancellationToken);
    }

    /// <inheritdoc cref="SendAsync(ReadOnlySpan{Message}, CancellationToken)"/>
    public ValueTask SendAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages is Message[] array)
        {
            return SendAsync(new ReadOnlySpan<Message>(array), cancellationToken);
        }
        if (messages is List<Message> list)
        {
            return SendAsync(CollectionsMarshal.AsSpan(list), cancellationToken);
        }
        return SendAsync(messages.ToArray().AsSpan(), cancellationToken);
    }

    private ValueTask SendPrepared(int messages, CancellationToken cancellationToken)
    {
        for (int i = 0; i < _count; i++)
        {
            _lengths[i] = _segments[i].Length;
        }
        _index = 0;
        _offset = 0;
        _bytesSentNow = 0;
        if (_stream is not null)
        {
            return SendToStreamAsync(messages, cancellationToken);
        }
        try
        {
            PinSegments();
        }
        catch
        {
            // A segment whose owner was disposed cannot be pinned; nothing was written, the writer stays usable.
            Clear();
            Exit();
            throw;
        }
        bool done;
        try
        {
            done = TrySendVectored();
        }
        catch (Exception exception)
        {
            Fault(exception);
            Clear();
            Exit();
            throw;
        }
        if (done)
        {
            Complete(messages);
            return default;
        }
        return SendRemainderAsync(messages, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendRemainderAsync(int messages, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                // The socket is full: let the runtime's event loop wait for room and send the rest of the
                // current segment in place, then go back to vectored calls for the segments after it.
                ReadOnlyMemory<byte> rest = _segments[_index][_offset..];
                int sent = await _socket!.SendAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                Advance(sent);
                if (_index == _count || TrySendVectored())
                {
                    break;
                }
            }
        }
        catch (SocketException exception)
        {
            MessageConnectionException wrapped = SocketErrors.Wrap(exception, "Sending");
            Fault(wrapped);
            Clear();
            Exit();
            throw wrapped;
        }
        catch (Exception exception)
        {
            Fault(exception);
            Clear();
            Exit();
            throw;
        }
        Complete(messages);
    }

    private async ValueTask SendToStreamAsync(int messages, CancellationToken cancellationToken)
    {
        try
        {
            for (int i = 0; i < _count; i++)
            {
                await _stream!.WriteAsync(_segments[i], cancellationToken).ConfigureAwait(false);
                _bytesSentNow += _segments[i].Length;
            }
            await _stream!.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // A stream write cancelled or failed partway leaves an unknown part of the message on the wire.
            Exception thrown = exception is IOException { InnerException: SocketException socketException }
                ? SocketErrors.Wrap(socketException, "Sending")
                : exception;
            Fault(thrown);
            Clear();
            Exit();
            if (ReferenceEquals(thrown, exception))
            {
                throw;
            }
            throw thrown;
        }
        _index = _count;
        Complete(messages);
    }

    /// <summary>Vectored sends until all is written (true) or the socket would block (false).</summary>
    private bool TrySendVectored()
    {
        while (_index < _count)
        {
            int vectors = Math.Min(_count - _index, VectoredSend.MaxSegments);
            long sent;
            try
            {
                sent = VectoredSend.TrySend(_handle!, _pins.AsSpan(_index, vectors), _lengths.AsSpan(_index, vectors), _offset);
            }
            catch (SocketException exception)
            {
                throw SocketErrors.Wrap(exception, "Sending");
            }
            if (sent < 0)
            {
                return false;
            }
            Advance(sent);
        }
        return true;
    }

    private void Advance(long sent)
    {
        _bytesSentNow += sent;
        VectoredSend.Advance(_lengths.AsSpan(0, _count), sent, ref _index, ref _offset);
    }

    private void PinSegments()
    {
        for (int i = 0; i < _count; i++)
        {
            _pins[i] = _segments[i].Pin();
            _pinned = i + 1;
        }
    }

    private void Complete(int messages)
    {
        MessagesSent += messages;
        BytesSent += _bytesSentNow;
        Clear();
        Exit();
    }

    /// <summary>Unpins and forgets the segments so the sender keeps no message memory alive.</summary>
    private void Clear()
    {
        for (int i = 0; i < _pinned; i++)
        {
            _pins[i].Dispose();
            _pins[i] = default;
        }
        _pinned = 0;
        _segments.AsSpan(0, Math.Min(_count, _segments.Length)).Clear();
        _count = 0;
    }

    private void EnsureSegments(int count)
    {
        if (_segments.Length < count)
        {
            int size = Math.Max(count, _segments.Length * 2);
            _segments = new ReadOnlyMemory<byte>[size];
            _lengths = new int[size];
            _pins = new MemoryHandle[size];
        }
    }

    private void EnsureHeader(int size)
    {
        if (_header.Length < size)
        {
            _header = new byte[Math.Max(size, _header.Length * 2)];
        }
    }

    private void Enter(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Volatile.Read(ref _fault) is Exception fault)
        {
            throw SocketErrors.Faulted("sending side", fault);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("Another send is in progress on this connection; await it before sending again (one sender at a time).");
        }
    }

    private void Exit() => Volatile.Write(ref _busy, 0);

    private void Fault(Exception exception) => Interlocked.CompareExchange(ref _fault, exception, null);

    /// <summary>
    /// Ends the sender: later sends throw <see cref="ObjectDisposedException"/>. It holds nothing once a send has completed
    /// (segments are unpinned then), and it does not own the socket or stream: dispose those (or the connection) to close it.
    /// </summary>
    public void Dispose() => _disposed = true;
}
