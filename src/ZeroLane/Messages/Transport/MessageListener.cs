using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using ZeroLane.Posix;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// Accepts <see cref="MessageConnection"/>s on a TCP port (loopback unless another address is named) or on a
/// Unix domain socket path (owner-only by default).
/// </summary>
public sealed class MessageListener : IDisposable
{
    private readonly Socket _socket;
    private readonly string? _unixPath;
    private readonly MessageLimits? _limits;
    private int _disposed;

    private MessageListener(Socket socket, string? unixPath, MessageLimits? limits)
    {
        _socket = socket;
        _unixPath = unixPath;
        _limits = limits;
    }

    /// <summary>
    /// Listens on TCP <paramref name="port"/> (0 picks a free port; see <see cref="Port"/>) of
    /// <paramref name="address"/>, which is the IPv4 loopback address unless given: other hosts can connect
    /// only when an address that they reach is named explicitly (for example <see cref="IPAddress.Any"/>).
    /// </summary>
    public static MessageListener ListenTcp(int port, IPAddress? address = null, int backlog = 128, MessageLimits? limits = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        address ??= IPAddress.Loopback;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new MessageListener(socket, null, limits);
    }

    /// <summary>
    /// Listens on a Unix domain socket at <paramref name="path"/>, whose file gets <paramref name="mode"/>
    /// (owner read and write only unless given). A stale socket file (nobody listening) is replaced; a live
    /// one, a symbolic link or any other kind of file is refused. The file is removed on dispose.
    /// </summary>
    /// <exception cref="IOException">Something listens at the path already, or the path is not a socket.</exception>
    public static MessageListener ListenUnix(string path, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite, int backlog = 128, MessageLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RemoveStaleSocketFile(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            // bind() created the file with the umask's permissions; narrow them before accepting anyone.
            FileDescriptor.SetPermissions(path, mode);
            socket.Listen(backlog);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new IOException($"'{path}' appeared while the listener was being set up; another process is using it.", exception);
        }
        catch
        {
            socket.Dispose();
            TryDelete(path);
            throw;
        }
        return new MessageListener(socket, path, limits);
    }

    private static void RemoveStaleSocketFile(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            throw new IOException($"'{path}' is a symbolic link; a Unix socket listener refuses to follow it. Remove it or choose another path.");
        }
        if (!info.Exists && !Directory.Exists(path))
        {
            return;
        }
        if (Directory.Exists(path) || !IsSocket(path))
        {
            throw new IOException($"'{path}' exists and is not a Unix socket; refusing to replace it.");
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            // Nobody accepts on it: a leftover of a listener that did not clean up.
            File.Delete(path);
            return;
        }
        throw new IOException($"Another listener is accepting on '{path}'.");
    }

    private static bool IsSocket(string path) => FileDescriptor.PathStatus(path) is { IsSocket: true };

    /// <summary>Where the listener accepts: an <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>.</summary>
    public EndPoint LocalEndPoint => _socket.LocalEndPoint!;

    /// <summary>The TCP port (useful after listening on port 0); 0 for a Unix socket.</summary>
    public int Port => (_socket.LocalEndPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>The Unix socket path, or null for TCP.</summary>
    public string? Path => _unixPath;

    /// <summary>Waits for the next connection.</summary>
    public async ValueTask<MessageConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Socket socket = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return MessageConnection.FromSocket(socket, _limits);
    }

    /// <summary>Waits for the next connection, giving up with <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public ValueTask<MessageConnection> AcceptAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Timeouts.RunAsync(AcceptAsync, timeout, "Accepting", cancellationToken);

    /// <summary>
    /// Waits for the next connection and runs the TLS handshake on it as the server, presenting
    /// <paramref name="serverCertificate"/> (which needs its private key).
    /// </summary>
    public async ValueTask<MessageConnection> AcceptTlsAsync(X509Certificate2 serverCertificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(serverCertificate);
        Socket socket = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return await MessageConnection.AcceptTlsAsync(socket, new SslServerAuthenticationOptions { ServerCertificate = serverCertificate }, _limits, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops listening and removes the Unix socket file. Accepted connections are not affected.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _socket.Dispose();
        if (_unixPath is not null && IsSocket(_unixPath))
        {
            TryDelete(_unixPath);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
