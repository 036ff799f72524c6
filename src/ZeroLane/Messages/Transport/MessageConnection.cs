using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// A connection that carries messages both ways over TCP or a Unix domain socket, optionally with TLS: a
/// <see cref="FrameWriter"/> and a <see cref="FrameReader"/> on one connected socket. One sender and one
/// receiver may work at the same time.
/// </summary>
/// <remarks>
/// Without TLS a message goes out with vectored <c>sendmsg</c> calls straight from its segments. With TLS the
/// header and each segment are written to an <see cref="SslStream"/>, which copies them while encrypting (one
/// user-space copy per byte on each side), and a cancelled receive faults the connection.
/// <para>
/// End of stream: <see cref="TryReceiveAsync(CancellationToken)"/> returns <see langword="null"/> when the peer
/// closed between messages; a peer that closes inside a message gives <see cref="MessageStreamTruncatedException"/>;
/// a reset gives <see cref="MessageConnectionException"/> with the socket error.
/// </para>
/// </remarks>
public sealed class MessageConnection : IAsyncDisposable, IDisposable
{
    private readonly Socket _socket;
    private readonly SslStream? _tls;
    private int _disposed;

    private MessageConnection(Socket socket, SslStream? tls, MessageFrameLimits? limits)
    {
        _socket = socket;
        _tls = tls;
        Writer = tls is null ? new FrameWriter(socket) : new FrameWriter(tls);
        Reader = tls is null ? new FrameReader(socket, limits) : new FrameReader(tls, limits);
    }

    /// <summary>Wraps a connected stream socket; the connection owns it from now on.</summary>
    public static MessageConnection FromSocket(Socket socket, MessageFrameLimits? limits = null)
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
    public static async ValueTask<MessageConnection> ConnectTcpAsync(string host, int port, CancellationToken cancellationToken = default, MessageFrameLimits? limits = null)
    {
        Socket socket = await ConnectTcpSocketAsync(host, port, cancellationToken).ConfigureAwait(false);
        return FromSocket(socket, limits);
    }

    /// <summary>Connects to a TCP listener, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static ValueTask<MessageConnection> ConnectTcpAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken = default, MessageFrameLimits? limits = null) =>
        Timeouts.RunAsync(token => ConnectTcpAsync(host, port, token, limits), timeout, "Connecting", cancellationToken);

    /// <summary>Connects to a Unix domain socket listener at <paramref name="path"/>.</summary>
    public static async ValueTask<MessageConnection> ConnectUnixAsync(string path, CancellationToken cancellationToken = default, MessageFrameLimits? limits = null)
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
    public static ValueTask<MessageConnection> ConnectUnixAsync(string path, TimeSpan timeout, CancellationToken cancellationToken = default, MessageFrameLimits? limits = null) =>
        Timeouts.RunAsync(token => ConnectUnixAsync(path, token, limits), timeout, "Connecting", cancellationToken);

    /// <summary>
    /// Connects to a TLS listener over TCP. <paramref name="targetHost"/> is the name the server's certificate must
    /// carry; <paramref name="validateServerCertificate"/>, if given, decides instead of the system's trust store
    /// (for example to pin a self-signed certificate).
    /// </summary>
    public static async ValueTask<MessageConnection> ConnectTlsAsync(string host, int port, string targetHost,
        RemoteCertificateValidationCallback? validateServerCertificate = null, CancellationToken cancellationToken = default, MessageFrameLimits? limits = null)
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

    internal static async ValueTask<MessageConnection> AcceptTlsAsync(Socket socket, SslServerAuthenticationOptions options, MessageFrameLimits? limits, CancellationToken cancellationToken)
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

    /// <summary>The sending side (vectored frames; faults if a send is cancelled midway).</summary>
    public FrameWriter Writer { get; }

    /// <summary>The receiving side (cancel-safe frames).</summary>
    public FrameReader Reader { get; }

    /// <summary>True when the connection runs over TLS.</summary>
    public bool IsTls => _tls is not null;

    /// <summary>This end's address.</summary>
    public EndPoint? LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint => _socket.RemoteEndPoint;

    /// <inheritdoc cref="FrameWriter.SendAsync(Message, CancellationToken)"/>
    public ValueTask SendAsync(Message message, CancellationToken cancellationToken = default) =>
        Writer.SendAsync(message, cancellationToken);

    /// <summary>
    /// Sends <paramref name="message"/>, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.
    /// A send that times out midway faults the writer, as a cancelled one does.
    /// </summary>
    public ValueTask SendAsync(Message message, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Timeouts.RunAsync(token => Writer.SendAsync(message, token), timeout, "Sending", cancellationToken);

    /// <inheritdoc cref="FrameWriter.SendAsync(ReadOnlySpan{Message}, CancellationToken)"/>
    public ValueTask SendAsync(ReadOnlySpan<Message> messages, CancellationToken cancellationToken = default) =>
        Writer.SendAsync(messages, cancellationToken);

    /// <inheritdoc cref="FrameWriter.SendAsync(IReadOnlyList{Message}, CancellationToken)"/>
    public ValueTask SendAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken = default) =>
        Writer.SendAsync(messages, cancellationToken);

    /// <inheritdoc cref="FrameReader.TryReceiveAsync(CancellationToken)"/>
    public ValueTask<Message?> TryReceiveAsync(CancellationToken cancellationToken = default) =>
        Reader.TryReceiveAsync(cancellationToken);

    /// <inheritdoc cref="FrameReader.ReceiveAsync(CancellationToken)"/>
    public ValueTask<Message> ReceiveAsync(CancellationToken cancellationToken = default) =>
        Reader.ReceiveAsync(cancellationToken);

    /// <summary>
    /// Receives the next message or <see langword="null"/> at the end of the stream, giving up with
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/>. On a socket connection a timed-out
    /// receive keeps its progress and can be retried.
    /// </summary>
    public ValueTask<Message?> TryReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Timeouts.RunAsync(token => Reader.TryReceiveAsync(token), timeout, "Receiving", cancellationToken);

    /// <summary>Receives the next message, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public ValueTask<Message> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Timeouts.RunAsync(token => Reader.ReceiveAsync(token), timeout, "Receiving", cancellationToken);

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
            if (!Reader.IsFaulted)
            {
                while (await Reader.TryReceiveAsync(cancellationToken).ConfigureAwait(false) is Message message)
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

    /// <summary>Closes the socket at once (no drain). Received messages stay valid until disposed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _tls?.Dispose();
        _socket.Dispose();
        Reader.Dispose();
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
