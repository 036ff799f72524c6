using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// A connection that carries messages both ways over TCP or a Unix domain socket, optionally with TLS: a
/// <see cref="MessageSender"/> and a <see cref="MessageReceiver"/> on one connected socket. One send and one
/// receive may run at the same time.
/// </summary>
/// <remarks>
/// Without TLS a message goes out with vectored <c>sendmsg</c> calls straight from its segments. With TLS the
/// header and each segment are written to an <see cref="SslStream"/>, which copies them while encrypting (one
/// user-space copy per byte on each side), and a cancelled receive faults the connection.
/// <para>
/// End of stream: <see cref="TryReceiveAsync(TimeSpan, CancellationToken)"/> returns <see cref="ReceiveStatus.EndOfStream"/>
/// when the peer closed between messages; a peer that closes inside a message gives <see cref="MessageStreamTruncatedException"/>;
/// a reset gives <see cref="MessageConnectionException"/> with the socket error.
/// </para>
/// </remarks>
public sealed class MessageConnection : IAsyncDisposable, IDisposable
{
    private readonly Socket _socket;
    private readonly SslStream? _tls;
    private int _disposed;

    private MessageConnection(Socket socket, SslStream? tls, MessageLimits? limits)
    {
        _socket = socket;
        _tls = tls;
        Sender = tls is null ? new MessageSender(socket) : new MessageSender(tls);
        Receiver = tls is null ? new MessageReceiver(socket, limits) : new MessageReceiver(tls, limits);
    }

    /// <summary>Wraps a connected stream socket; the connection owns it from now on.</summary>
    public static MessageConnection FromSocket(Socket socket, MessageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!socket.Connected)
        {
            throw new ArgumentException("The socket is not connected.", nameof(socket));
        }
        if (socket.ProtocolType == ProtocolType.Tcp)
        {
            socket.NoDelay = true;
        }
        return new MessageConnection(socket, null, limits);
    }

    /// <summary>Connects to a TCP listener (any address <paramref name="host"/> resolves to, IPv4 or IPv6).</summary>
    public static async ValueTask<MessageConnection> ConnectTcpAsync(string host, int port, MessageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        Socket socket = await ConnectTcpSocketAsync(host, port, cancellationToken).ConfigureAwait(false);
        return FromSocket(socket, limits);
    }

    /// <summary>Connects to a TCP listener, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static ValueTask<MessageConnection> ConnectTcpAsync(string host, int port, TimeSpan timeout, MessageLimits? limits = null, CancellationToken cancellationToken = default) =>
        Timeouts.RunAsync(token => ConnectTcpAsync(host, port, limits, token), timeout, "Connecting", cancellationToken);

    /// <summary>Connects to a Unix domain socket listener at <paramref name="path"/>.</summary>
    public static async ValueTask<MessageConnection> ConnectUnixAsync(string path, MessageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return FromSocket(socket, limits);
    }

    /// <summary>Connects to a Unix domain socket listener, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static ValueTask<MessageConnection> ConnectUnixAsync(string path, TimeSpan timeout, MessageLimits? limits = null, CancellationToken cancellationToken = default) =>
        Timeouts.RunAsync(token => ConnectUnixAsync(path, limits, token), timeout, "Connecting", cancellationToken);

    /// <summary>
    /// Connects to a TLS listener over TCP. <paramref name="targetHost"/> is the name the server's certificate must
    /// carry; <paramref name="validateServerCertificate"/>, if given, decides instead of the system's trust store
    /// (for example to pin a self-signed certificate).
    /// </summary>
    public static async ValueTask<MessageConnection> ConnectTlsAsync(string host, int port, string targetHost,
        RemoteCertificateValidationCallback? validateServerCertificate = null, MessageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        Socket socket = await ConnectTcpSocketAsync(host, port, cancellationToken).ConfigureAwait(false);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false, validateServerCertificate);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = targetHost }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
        return new MessageConnection(socket, tls, limits);
    }

    internal static async ValueTask<MessageConnection> AcceptTlsAsync(Socket socket, SslServerAuthenticationOptions options, MessageLimits? limits, CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
        return new MessageConnection(socket, tls, limits);
    }

    private static async ValueTask<Socket> ConnectTcpSocketAsync(string host, int port, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    /// <summary>The sending side (vectored sends; faults if a send is cancelled midway).</summary>
    public MessageSender Sender { get; }

    /// <summary>The receiving side (cancel-safe receives).</summary>
    public MessageReceiver Receiver { get; }

    /// <summary>True when the connection runs over TLS.</summary>
    public bool IsTls => _tls is not null;

    /// <summary>This end's address.</summary>
    public EndPoint? LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint => _socket.RemoteEndPoint;

    /// <inheritdoc cref="MessageSender.SendAsync(Message, CancellationToken)"/>
    public ValueTask SendAsync(Message message, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(message, cancellationToken);

    /// <summary>
    /// Sends <paramref name="message"/>, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.
    /// A send that times out midway faults the sender, as a cancelled one does.
    /// </summary>
    public ValueTask SendAsync(Message message, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Timeouts.RunAsync(token => Sender.SendAsync(message, token), timeout, "Sending", cancellationToken);

    /// <inheritdoc cref="MessageSender.SendAsync(ReadOnlySpan{Message}, CancellationToken)"/>
    public ValueTask SendAsync(ReadOnlySpan<Message> messages, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(messages, cancellationToken);

    /// <inheritdoc cref="MessageSender.SendAsync(IReadOnlyList{Message}, CancellationToken)"/>
    public ValueTask SendAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(messages, cancellationToken);

    /// <inheritdoc cref="MessageReceiver.TryReceiveAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<ReceiveResult> TryReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Receiver.TryReceiveAsync(timeout, cancellationToken);

    /// <inheritdoc cref="MessageReceiver.ReceiveAsync(CancellationToken)"/>
    public ValueTask<Message> ReceiveAsync(CancellationToken cancellationToken = default) =>
        Receiver.ReceiveAsync(cancellationToken);

    /// <inheritdoc cref="MessageReceiver.ReceiveAsync(TimeSpan, CancellationToken)"/>
    public ValueTask<Message> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Receiver.ReceiveAsync(timeout, cancellationToken);

    /// <summary>
    /// Closes gracefully: tells the peer no more messages will come (TLS close_notify, then shutdown of the
    /// sending direction), then receives and discards whatever the peer still sends until it closes too, and
    /// releases the socket. Cancel to stop waiting for the peer; the socket is released either way.
    /// </summary>
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (_tls is not null)
            {
                await _tls.ShutdownAsync().ConfigureAwait(false);
            }
            _socket.Shutdown(SocketShutdown.Send);
            if (!Receiver.IsFaulted)
            {
                while ((await Receiver.TryReceiveAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)).Message is Message message)
                {
                    message.Dispose();
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException or ZeroLaneException or ObjectDisposedException)
        {
            // The peer is gone already; there is nothing left to drain.
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Closes after a failure in the middle of a stream: shuts down the sending direction (so a last message sent just
    /// before still arrives), then discards the raw bytes the peer goes on sending until it closes or
    /// <paramref name="limit"/> passes. Closing over unread bytes would make the kernel reset the connection, and a reset
    /// can drop that last message before the peer reads it.
    /// </summary>
    internal async ValueTask CloseDiscardingAsync(TimeSpan limit)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            if (_tls is not null)
            {
                await _tls.ShutdownAsync().ConfigureAwait(false);
            }
            _socket.Shutdown(SocketShutdown.Send);
            using var source = new CancellationTokenSource(limit);
            while (true)
            {
                int received = _tls is null
                    ? await _socket.ReceiveAsync(scratch, SocketFlags.None, source.Token).ConfigureAwait(false)
                    : await _tls.ReadAsync(scratch, source.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone, or would not stop sending: close anyway.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes the socket at once (no drain). Received messages stay valid until disposed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _tls?.Dispose();
        _socket.Dispose();
        Sender.Dispose();
        Receiver.Dispose();
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
