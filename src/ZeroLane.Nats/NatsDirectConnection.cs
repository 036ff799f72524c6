using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using NATS.NKeys;
using ZeroLane.Posix;

namespace ZeroLane.Nats;

/// <summary>
/// The gateway's own core NATS client connection (PROTOCOL.md 16.7): it speaks just enough of the NATS client protocol to
/// authenticate (user and password, token, NKey, creds file, TLS), publish with <c>HPUB</c>, and subscribe. Each message
/// goes out in one gather write (sendmsg) of its command line and headers, its payload straight from shared memory, and the
/// closing CRLF; each message received is handed to its subscription's <see cref="IRawMessageReceiver"/> straight from the
/// receive buffer. Nothing is copied in user space on the way out and nothing is allocated per message either way; NATS.Net
/// copies every payload it sends twice and allocates per message once its send buffer fills (<see cref="NatsSampleSender"/>).
/// </summary>
/// <remarks>
/// <para>One connection per gateway, shared by its export threads: a lock keeps each message whole on the socket. A reader
/// thread per connection takes what the server sends: messages, PINGs (answered), PONGs, INFO updates (max_payload, the
/// cluster's other servers) and errors. The connection is made with echo off, so the server never sends the gateway's own
/// messages back to its subscriptions.</para>
/// <para>At most once: a message the socket did not take (the server went away) is lost, and the caller counts it. A lost
/// connection is opened again by a keeper thread (and by the next publish), across the endpoint's URLs and the servers the
/// cluster announced, at once and then with the endpoint's back-off, and every subscription is made again on it; while
/// waiting, publishes fail at once with the reason. The keeper also PINGs the server every <see cref="PingInterval"/> and
/// drops a connection whose previous PING went unanswered.</para>
/// <para>With TLS there is no gather write: the payload goes through <see cref="SslStream"/>, which encrypts it (a copy any
/// TLS client makes).</para>
/// </remarks>
internal sealed class NatsDirectConnection : IDisposable
{
    /// <summary>A publish that makes no progress for this long (the server takes nothing) drops the connection.</summary>
    internal static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(10);

    /// <summary>How often the keeper PINGs the server; a PING still unanswered at the next one drops the connection.</summary>
    internal static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(20);

    /// <summary>The max_payload assumed until a server says otherwise (the NATS server's default).</summary>
    private const int DefaultMaxPayload = 1 << 20;

    /// <summary>Room for one message's command line and header block.</summary>
    private const int PrefixCapacity = 8192;

    /// <summary>Room for small messages held back to go out together (<see cref="Publish"/> with <c>more</c>).</summary>
    private const int BatchCapacity = 64 * 1024;

    /// <summary>The piece of a payload written to the TLS stream at a time: one TLS record's worth.</summary>
    private const int TlsPiece = 16 * 1024;

    /// <summary>The largest payload a message may have to be held back in the batch; larger ones always go out at once.</summary>
    internal const int BatchedPayloadMax = 4096;

    private static readonly byte[] s_crlf = NewPinned("\r\n"u8);
    private static readonly byte[] s_ping = NewPinned("PING\r\n"u8);
    private static readonly byte[] s_pong = NewPinned("PONG\r\n"u8);

    private readonly NatsEndpoint _endpoint;
    private readonly string _clientVersion;

    /// <summary>Held while a message (or a PING, PONG or connect) is written: whole messages only, one writer at a time.</summary>
    private readonly object _write = new();

    private readonly byte[] _prefix = GC.AllocateArray<byte>(PrefixCapacity, pinned: true);
    private readonly byte[] _batch = GC.AllocateArray<byte>(BatchCapacity, pinned: true);
    private int _batched;
    private readonly MemoryHandle[] _pins = new MemoryHandle[4];
    private readonly int[] _lengths = new int[4];
    private readonly List<string> _announced = [];
    private readonly Dictionary<int, Subscription> _subscriptions = [];
    private readonly AutoResetEvent _wakeKeeper = new(initialState: false);
    private Thread? _keeper;
    private int _lastSid;
    private Link? _link;
    private bool _connectedBefore;
    private long _nextAttempt;
    private TimeSpan _wait;
    private int _failedAttempts;
    private long _reconnects;
    private string? _lastError;
    private volatile bool _disposed;

    internal NatsDirectConnection(NatsEndpoint endpoint)
    {
        endpoint.Validate();
        _endpoint = endpoint;
        _wait = endpoint.ReconnectWaitMin;
        _clientVersion = typeof(NatsDirectConnection).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";
    }

    /// <summary>Times the connection was opened again after it was lost.</summary>
    internal long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Called (on a sending thread) each time the connection is opened again after it was lost.</summary>
    internal Action? Reconnected { get; init; }

    /// <summary>Why the connection was last lost or could not be opened; null if never.</summary>
    internal string? LastError => Volatile.Read(ref _lastError);

    /// <summary>The URL of the server connected to now; null while disconnected.</summary>
    internal string? ServerUrl => _link is { IsBroken: false } link ? link.Url : null;

    /// <summary>
    /// Opens the connection: every URL once, in order. Refused credentials and failed TLS handshakes end at once; otherwise
    /// the first URL that answers is used.
    /// </summary>
    /// <exception cref="NatsGatewayConnectException">No server took the connection; the message says why and what to do.</exception>
    internal void Connect(CancellationToken cancellationToken)
    {
        lock (_write)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_link is { IsBroken: false })
            {
                return;
            }
            _link = OpenAny(cancellationToken, out string? failure) ??
                throw new NatsGatewayConnectException($"The gateway's own NATS connection could not reach any NATS server ({string.Join(", ", _endpoint.Urls)}): {failure}. Start nats-server or fix --nats.");
            _connectedBefore = true;
            if (_keeper is null)
            {
                _keeper = new Thread(Keep) { IsBackground = true, Name = "ZeroLane gateway NATS keeper" };
                _keeper.Start();
            }
        }
    }

    /// <summary>
    /// Subscribes <paramref name="receiver"/> to <paramref name="subject"/> (now if connected, else on the next connect, and
    /// again on every reconnect). Its messages arrive on the connection's reader thread, which it must not block. Call
    /// <see cref="Flush"/> afterwards to know the server has the subscription.
    /// </summary>
    /// <returns>The subscription's ID, for <see cref="Unsubscribe"/>.</returns>
    internal int Subscribe(string subject, IRawMessageReceiver receiver)
    {
        lock (_write)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int sid = ++_lastSid;
            var subscription = new Subscription(subject, receiver, Encoding.ASCII.GetBytes($"SUB {subject} {sid}\r\n"));
            lock (_subscriptions)
            {
                _subscriptions[sid] = subscription;
            }
            if (_link is { IsBroken: false } link)
            {
                try
                {
                    link.WriteControl(subscription.Command);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
                {
                    // Made again on the reconnect.
                    link.Break(Reason(e));
                }
            }
            return sid;
        }
    }

    /// <summary>Ends subscription <paramref name="sid"/>: no message of it is handed on once this returns.</summary>
    internal void Unsubscribe(int sid)
    {
        lock (_write)
        {
            lock (_subscriptions)
            {
                if (!_subscriptions.Remove(sid))
                {
                    return;
                }
            }
            if (_link is { IsBroken: false } link)
            {
                try
                {
                    link.WriteControl(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"UNSUB {sid}\r\n")));
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
                {
                    // The server forgets the subscription with the connection.
                    link.Break(Reason(e));
                }
            }
        }
        // A message of it being handed on now finishes under the reader's dispatch lock.
        lock (_subscriptions)
        {
        }
    }

    /// <summary>The receiver of subscription <paramref name="sid"/>, or null (unsubscribed since). The caller holds the dispatch lock.</summary>
    private IRawMessageReceiver? ReceiverOf(int sid) => _subscriptions.TryGetValue(sid, out Subscription? subscription) ? subscription.Receiver : null;

    /// <summary>
    /// The keeper thread: reopens a lost connection (at once, then with back-off) even when nothing is published, and PINGs
    /// the server every <see cref="PingInterval"/>, dropping a connection whose previous PING went unanswered.
    /// </summary>
    private void Keep()
    {
        long lastPing = Environment.TickCount64;
        while (!_disposed)
        {
            _wakeKeeper.WaitOne(TimeSpan.FromMilliseconds(250));
            if (_disposed)
            {
                return;
            }
            lock (_write)
            {
                if (_disposed)
                {
                    return;
                }
                try
                {
                    Link link = EnsureLink(CancellationToken.None);
                    if (_batched > 0)
                    {
                        // A publisher that said it had more and then did not send its batch: at most a tick late.
                        Write(link, 0, default, CancellationToken.None);
                    }
                    if (Environment.TickCount64 - lastPing >= (long)PingInterval.TotalMilliseconds)
                    {
                        lastPing = Environment.TickCount64;
                        // PONGs come in the order of the PINGs: the keeper's last one must be answered by now.
                        if (link.PongsReceived < link.KeeperPing)
                        {
                            link.Break($"the server did not answer a PING within {PingInterval.TotalSeconds:0} s");
                            _wakeKeeper.Set();
                            continue;
                        }
                        link.WriteControl(s_ping);
                        link.KeeperPing = ++link.PingsSent;
                    }
                }
                catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                {
                    // Said in LastError; tried again after the back-off.
                }
                catch (Exception e)
                {
                    // Refused credentials, or anything unforeseen: said, and tried again after the longest back-off. The
                    // keeper never ends while the connection is in use (an exception here would end the process).
                    Volatile.Write(ref _lastError, e is NatsGatewayConnectException ? e.Message : $"reconnecting failed: {e.GetType().Name}: {OneLine(e.Message)}");
                    _nextAttempt = Environment.TickCount64 + (long)_endpoint.ReconnectWaitMax.TotalMilliseconds;
                }
            }
        }
    }

    /// <summary>
    /// The largest message the server takes (its max_payload, including headers), connecting first if need be.
    /// </summary>
    /// <exception cref="IOException">Not connected, and no server could be reached now.</exception>
    internal int MaxPayload(CancellationToken cancellationToken)
    {
        lock (_write)
        {
            return EnsureLink(cancellationToken).MaxPayload;
        }
    }

    /// <summary>
    /// Publishes one message: <paramref name="headers"/> (a whole NATS header block, "NATS/1.0\r\n" to its empty line) and
    /// <paramref name="payload"/>, which is read in place and must stay valid until this returns. Blocks while the socket is
    /// full. With <paramref name="more"/> (the caller has more to publish right away) a message with a payload of at most
    /// <see cref="BatchedPayloadMax"/> bytes may be copied into a batch instead, to go out in one write with the messages
    /// after it: the caller must then call <see cref="SendBatch"/> when it has nothing more for now. Messages held back go
    /// out before any later message, PING or subscription of this connection.
    /// </summary>
    /// <exception cref="IOException">The message (and any held back before it) was not sent: not connected, or the
    /// connection broke while sending it (the server drops the part it got).</exception>
    /// <exception cref="OperationCanceledException">Cancelled while the socket was full; the connection is dropped, since a part
    /// of the message may have gone.</exception>
    internal void Publish(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload, CancellationToken cancellationToken,
        bool more = false)
    {
        lock (_write)
        {
            Link link = EnsureLink(cancellationToken);
            int prefixLength = WritePrefix(subject, headers, payload.Length);
            int total = prefixLength + payload.Length + s_crlf.Length;
            if (more && payload.Length <= BatchedPayloadMax && total <= BatchCapacity - _batched)
            {
                Span<byte> batch = _batch.AsSpan(_batched);
                _prefix.AsSpan(0, prefixLength).CopyTo(batch);
                payload.CopyTo(batch[prefixLength..]);
                s_crlf.CopyTo(batch[(prefixLength + payload.Length)..]);
                _batched += total;
                return;
            }
            Write(link, prefixLength, payload, cancellationToken);
        }
    }

    /// <summary>Sends the messages <see cref="Publish"/> held back, if any.</summary>
    /// <exception cref="IOException">They were not sent (see <see cref="Publish"/>).</exception>
    internal void SendBatch(CancellationToken cancellationToken)
    {
        lock (_write)
        {
            if (_batched > 0)
            {
                Write(EnsureLink(cancellationToken), 0, default, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Writes the batch, then <see cref="_prefix"/>'s first <paramref name="prefixLength"/> bytes, the payload and CRLF (no
    /// message when <paramref name="prefixLength"/> is 0), in one gather write; empties the batch. Under <see cref="_write"/>.
    /// </summary>
    private unsafe void Write(Link link, int prefixLength, ReadOnlySpan<byte> payload, CancellationToken cancellationToken)
    {
        int batched = _batched;
        _batched = 0;
        int crlfLength = prefixLength > 0 ? s_crlf.Length : 0;
        if (link.Ssl is { } ssl)
        {
            try
            {
                ssl.Write(_batch, 0, batched);
                ssl.Write(_prefix, 0, prefixLength);
                // In TLS-record-sized pieces: a larger span makes the stream rent (and at times allocate) a buffer its size.
                for (int at = 0; at < payload.Length; at += TlsPiece)
                {
                    ssl.Write(payload.Slice(at, Math.Min(TlsPiece, payload.Length - at)));
                }
                ssl.Write(s_crlf, 0, crlfLength);
                link.PayPongs();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                throw Lost(link, e);
            }
            return;
        }
        fixed (byte* batch = _batch)
        fixed (byte* prefix = _prefix)
        fixed (byte* body = payload)
        fixed (byte* crlf = s_crlf)
        {
            _pins[0] = new MemoryHandle(batch);
            _lengths[0] = batched;
            _pins[1] = new MemoryHandle(prefix);
            _lengths[1] = prefixLength;
            _pins[2] = new MemoryHandle(body);
            _lengths[2] = payload.Length;
            _pins[3] = new MemoryHandle(crlf);
            _lengths[3] = crlfLength;
            try
            {
                SendAll(link, cancellationToken);
            }
            finally
            {
                _pins.AsSpan().Clear();
            }
        }
        try
        {
            link.PayPongs();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // The message went; the connection broke after it.
            link.Break(Reason(e));
        }
    }

    /// <summary>
    /// Sends a PING and waits for the server's PONG: every message published before has then been processed by the server.
    /// False if not connected, the connection broke, or <paramref name="timeout"/> passed.
    /// </summary>
    internal bool Flush(TimeSpan timeout)
    {
        Link? link;
        long ping;
        lock (_write)
        {
            link = _link;
            if (link is null || link.IsBroken)
            {
                return false;
            }
            try
            {
                if (_batched > 0)
                {
                    Write(link, 0, default, CancellationToken.None);
                }
                link.WriteControl(s_ping);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                link.Break(e.Message);
                return false;
            }
            ping = ++link.PingsSent;
        }
        return link.WaitForPong(ping, timeout);
    }

    public void Dispose()
    {
        Link? link;
        lock (_write)
        {
            _disposed = true;
            link = _link;
            _link = null;
        }
        _wakeKeeper.Set();
        _keeper?.Join();
        link?.Dispose();
        _wakeKeeper.Dispose();
    }

    /// <summary>The live link, opening one if the last broke and the back-off allows. Call under <see cref="_write"/>.</summary>
    private Link EnsureLink(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_link is { IsBroken: false } live)
        {
            return live;
        }
        long now = Environment.TickCount64;
        if (_link is { } broken)
        {
            // Lost: try again at once (the cluster's other servers are likely up), with back-off after that.
            Volatile.Write(ref _lastError, $"lost the connection to {broken.Url}: {broken.BrokenReason}");
            broken.Dispose();
            _link = null;
            _nextAttempt = now;
        }
        if (_endpoint.MaxReconnectRetry >= 0 && _failedAttempts > _endpoint.MaxReconnectRetry)
        {
            throw new IOException($"Not connected to NATS: gave up after {_failedAttempts} failed reconnects ({LastError}).");
        }
        if (now < _nextAttempt)
        {
            throw new IOException($"Not connected to NATS ({LastError}); trying again in {_nextAttempt - now} ms.");
        }
        Link? link = OpenAny(cancellationToken, out string? failure);
        if (link is null)
        {
            _failedAttempts++;
            _nextAttempt = Environment.TickCount64 + (long)_wait.TotalMilliseconds;
            _wait = TimeSpan.FromTicks(Math.Min(_wait.Ticks * 2, _endpoint.ReconnectWaitMax.Ticks));
            Volatile.Write(ref _lastError, $"no NATS server could be reached: {failure}");
            throw new IOException($"Not connected to NATS: {failure}.");
        }
        _link = link;
        _failedAttempts = 0;
        _wait = _endpoint.ReconnectWaitMin;
        if (_connectedBefore)
        {
            Interlocked.Increment(ref _reconnects);
            Reconnected?.Invoke();
        }
        _connectedBefore = true;
        return link;
    }

    /// <summary>Tries every URL (the endpoint's, then those the cluster announced) once; null with the last failure if none took it.</summary>
    private Link? OpenAny(CancellationToken cancellationToken, out string? failure)
    {
        failure = null;
        List<string> urls = [.. _endpoint.Urls];
        lock (_announced)
        {
            urls.AddRange(_announced.Where(url => !urls.Contains(url, StringComparer.OrdinalIgnoreCase)));
        }
        foreach (string url in urls)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return Open(url, cancellationToken);
            }
            catch (NatsGatewayConnectException)
            {
                // Refused credentials or TLS: another server of the same cluster would refuse them too.
                throw;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is CryptographicException or NKeysException or UnauthorizedAccessException)
            {
                // Credential or TLS files that cannot be used (changed since they were checked?): no server would take them.
                throw new NatsGatewayConnectException(
                    $"The gateway's own NATS connection could not use its credentials or TLS files ({OneLine(e.Message)}): check --nkey, --creds, --tls-ca, --tls-cert and --tls-key.", e);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException or JsonException or FormatException)
            {
                failure = $"{url}: {Reason(e)}";
            }
        }
        return null;
    }

    /// <summary>Connects to one server: TCP, its INFO, TLS if wanted, CONNECT with the credentials, then PING and its PONG.</summary>
    private Link Open(string url, CancellationToken cancellationToken)
    {
        var uri = new Uri(url);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var link = new Link(this, url, socket);
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_endpoint.ConnectTimeout);
                try
                {
                    socket.ConnectAsync(uri.Host, uri.Port, timeout.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no TCP connection within {_endpoint.ConnectTimeout.TotalSeconds:0.#} s");
                }
            }
            link.ReadDeadline = Environment.TickCount64 + (long)_endpoint.ConnectTimeout.TotalMilliseconds;
            string greeting = Encoding.UTF8.GetString(link.NextLine());
            if (!greeting.StartsWith("INFO ", StringComparison.Ordinal))
            {
                throw new IOException($"the server greeted with '{Shorten(greeting)}', not INFO: is it a NATS server?");
            }
            ServerInfo info = ServerInfo.Parse(Encoding.UTF8.GetBytes(greeting[5..]));
            link.MaxPayload = info.MaxPayload;
            Announce(info.ConnectUrls, uri.Scheme);
            bool tls = uri.Scheme == "tls" || info.TlsRequired || _endpoint.TlsCaFile is not null || _endpoint.TlsCertFile is not null || _endpoint.TlsInsecure;
            if (tls)
            {
                if (!info.TlsRequired && !info.TlsAvailable)
                {
                    throw new NatsGatewayConnectException($"NATS server {url} does not offer TLS but TLS was asked for: write nats:// and no TLS options, or enable tls in the server's configuration.");
                }
                link.StartTls(uri.Host, TlsOptions(uri.Host));
            }
            link.WriteControl(ConnectCommand(info, tls));
            lock (_subscriptions)
            {
                foreach (Subscription subscription in _subscriptions.Values)
                {
                    link.WriteControl(subscription.Command);
                }
            }
            link.WriteControl(s_ping);
            while (true)
            {
                ReadOnlySpan<byte> next = link.NextLine();
                if (next.StartsWith("HMSG "u8) || next.StartsWith("MSG "u8))
                {
                    // A message of a subscription made above can come before the PONG: it is handed on (and its payload
                    // read) as the reader does, never taken for lines.
                    link.Deliver(next);
                    continue;
                }
                string line = Encoding.UTF8.GetString(next);
                if (line == "PONG")
                {
                    break;
                }
                if (line.StartsWith("-ERR", StringComparison.Ordinal))
                {
                    string error = line[4..].Trim().Trim('\'');
                    if (error.Contains("Authorization", StringComparison.OrdinalIgnoreCase) || error.Contains("Authentication", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new NatsGatewayConnectException(
                            $"NATS server {url} refused the credentials of the gateway's send connection ({error}): check --user/--password, --token, --nkey or --creds.");
                    }
                    throw new NatsGatewayConnectException($"NATS server {url} refused the gateway's send connection ({error}): check its log.");
                }
                if (line.StartsWith("INFO ", StringComparison.Ordinal))
                {
                    link.Update(ServerInfo.Parse(Encoding.UTF8.GetBytes(line[5..])));
                }
            }
            link.ReadDeadline = long.MaxValue;
            link.StartReading();
            return link;
        }
        catch (AuthenticationException e)
        {
            link.Dispose();
            throw new NatsGatewayConnectException(
                $"TLS handshake of the gateway's send connection with NATS server {url} failed ({OneLine(e.Message)}): give the CA that signed its certificate with --tls-ca " +
                "(and --tls-cert/--tls-key if it verifies clients).", e);
        }
        catch
        {
            link.Dispose();
            throw;
        }
    }

    /// <summary>Remembers the servers the cluster announced (INFO connect_urls), to reconnect to when the endpoint's URLs fail.</summary>
    private void Announce(IReadOnlyList<string> hostPorts, string scheme)
    {
        lock (_announced)
        {
            foreach (string hostPort in hostPorts)
            {
                string url = $"{scheme}://{hostPort}";
                if (!_announced.Contains(url, StringComparer.OrdinalIgnoreCase) && Uri.TryCreate(url, UriKind.Absolute, out _))
                {
                    _announced.Add(url);
                }
            }
        }
    }

    /// <summary>The CONNECT command: no echo, headers on, the client name, and the endpoint's credentials (signing the server's nonce for NKeys).</summary>
    private byte[] ConnectCommand(ServerInfo info, bool tls)
    {
        var json = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("verbose", false);
            writer.WriteBoolean("pedantic", false);
            writer.WriteBoolean("tls_required", tls);
            writer.WriteString("name", _endpoint.Name);
            writer.WriteString("lang", ".NET-ZeroLane");
            writer.WriteString("version", _clientVersion);
            writer.WriteNumber("protocol", 1);
            // Never receive its own publications (it subscribes to nothing anyway) and say it sends headers.
            writer.WriteBoolean("echo", false);
            writer.WriteBoolean("headers", true);
            writer.WriteBoolean("no_responders", false);
            if (_endpoint.User is { } user)
            {
                writer.WriteString("user", user);
                writer.WriteString("pass", _endpoint.Password);
            }
            if (_endpoint.Token is { } token)
            {
                writer.WriteString("auth_token", token);
            }
            if (_endpoint.NKeySeedFile is { } seedFile)
            {
                string seed = ReadCredentials(seedFile, "--nkey", text => NatsEndpoint.ParseNKeySeed(text, seedFile));
                using KeyPair pair = KeyPair.FromSeed(seed.AsSpan());
                writer.WriteString("nkey", pair.GetPublicKey());
                writer.WriteString("sig", Sign(pair, info.Nonce, seedFile));
            }
            if (_endpoint.CredsFile is { } credsFile)
            {
                (string jwt, string seed) = ReadCredentials(credsFile, "--creds", text => ParseCreds(text, credsFile));
                using KeyPair pair = KeyPair.FromSeed(seed.AsSpan());
                writer.WriteString("jwt", jwt);
                writer.WriteString("sig", Sign(pair, info.Nonce, credsFile));
            }
            writer.WriteEndObject();
        }
        byte[] command = new byte["CONNECT "u8.Length + json.WrittenCount + 2];
        "CONNECT "u8.CopyTo(command);
        json.WrittenSpan.CopyTo(command.AsSpan("CONNECT "u8.Length));
        "\r\n"u8.CopyTo(command.AsSpan(command.Length - 2));
        return command;
    }

    /// <summary>
    /// Reads and parses a credentials file at (re)connect; a file that is gone, unreadable or no longer valid is a
    /// credentials error (no server would take it), never taken for an unreachable server.
    /// </summary>
    private static T ReadCredentials<T>(string path, string option, Func<string, T> parse)
    {
        try
        {
            return parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new NatsGatewayConnectException($"The gateway's own NATS connection could not use '{path}' ({OneLine(e.Message)}): check {option}.", e);
        }
    }

    private static string Sign(KeyPair pair, string? nonce, string file)
    {
        if (nonce is null)
        {
            throw new NatsGatewayConnectException($"The NATS server sent no nonce to sign with the key of '{file}': does it have NKey or JWT users configured?");
        }
        byte[] signature = new byte[64];
        pair.Sign(Encoding.ASCII.GetBytes(nonce), signature);
        return Convert.ToBase64String(signature);
    }

    /// <summary>The user JWT and NKey seed of a .creds file: the first line after each of its BEGIN markers.</summary>
    internal static (string Jwt, string Seed) ParseCreds(string text, string path)
    {
        string? jwt = null, seed = null;
        string[] lines = text.Split('\n', StringSplitOptions.TrimEntries);
        for (int i = 0; i < lines.Length - 1; i++)
        {
            if (lines[i].StartsWith("-----BEGIN NATS USER JWT-----", StringComparison.Ordinal))
            {
                jwt ??= lines[i + 1];
            }
            else if (lines[i].StartsWith("-----BEGIN USER NKEY SEED-----", StringComparison.Ordinal))
            {
                seed ??= lines[i + 1];
            }
        }
        if (string.IsNullOrEmpty(jwt) || string.IsNullOrEmpty(seed) || jwt.StartsWith("---", StringComparison.Ordinal) || !seed.StartsWith("SU", StringComparison.Ordinal))
        {
            throw new NatsGatewayConnectException(
                $"NATS creds file '{path}' is not a .creds file (it needs a user JWT block and a user NKey seed block): give the file 'nsc generate creds' wrote.");
        }
        return (jwt, seed);
    }

    /// <summary>TLS as the endpoint says: its CA (else the system's), its client certificate, or no verification at all (tests).</summary>
    private SslClientAuthenticationOptions TlsOptions(string host)
    {
        var options = new SslClientAuthenticationOptions { TargetHost = host };
        if (_endpoint.TlsCertFile is { } certFile)
        {
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(certFile, _endpoint.TlsKeyFile)];
        }
        if (_endpoint.TlsInsecure)
        {
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (_endpoint.TlsCaFile is { } caFile)
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(caFile);
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
            };
        }
        return options;
    }

    /// <summary>Writes "HPUB SUBJECT HLEN TLEN\r\n" and the header block into <see cref="_prefix"/>; returns its length.</summary>
    private int WritePrefix(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> headers, int payloadLength)
    {
        Span<byte> prefix = _prefix;
        if ("HPUB "u8.Length + subject.Length + 26 + headers.Length > prefix.Length)
        {
            throw new ArgumentException($"A subject of {subject.Length} bytes with headers of {headers.Length} bytes does not fit the {PrefixCapacity}-byte command buffer.", nameof(headers));
        }
        "HPUB "u8.CopyTo(prefix);
        int at = "HPUB "u8.Length;
        subject.CopyTo(prefix[at..]);
        at += subject.Length;
        prefix[at++] = (byte)' ';
        Utf8Formatter.TryFormat(headers.Length, prefix[at..], out int written);
        at += written;
        prefix[at++] = (byte)' ';
        Utf8Formatter.TryFormat((long)headers.Length + payloadLength, prefix[at..], out written);
        at += written;
        prefix[at++] = (byte)'\r';
        prefix[at++] = (byte)'\n';
        headers.CopyTo(prefix[at..]);
        return at + headers.Length;
    }

    /// <summary>Gather-writes the segments of <see cref="_pins"/> until all are sent, waiting while the socket is full.</summary>
    private void SendAll(Link link, CancellationToken cancellationToken)
    {
        int index = 0;
        int skip = 0;
        long progressAt = Environment.TickCount64;
        while (index < _pins.Length)
        {
            long sent;
            try
            {
                sent = VectoredSend.TrySend(link.Handle, _pins.AsSpan(index), _lengths.AsSpan(index), skip);
                if (sent < 0)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        link.Break("a publish was cancelled halfway");
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    if (Environment.TickCount64 - progressAt > (long)StallLimit.TotalMilliseconds)
                    {
                        throw new IOException($"the server took nothing for {StallLimit.TotalSeconds:0} s");
                    }
                    link.Socket.Poll(100_000, SelectMode.SelectWrite);
                    continue;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                throw Lost(link, e);
            }
            progressAt = Environment.TickCount64;
            VectoredSend.Advance(_lengths, sent, ref index, ref skip);
        }
    }

    /// <summary>Marks <paramref name="link"/> broken and returns the exception for the message that was not sent.</summary>
    private IOException Lost(Link link, Exception cause)
    {
        string reason = Reason(cause);
        link.Break(reason);
        Volatile.Write(ref _lastError, $"lost the connection to {link.Url}: {reason}");
        return new IOException($"The connection to NATS server {link.Url} broke while sending ({reason}); the message was not delivered.", cause);
    }

    private static string Reason(Exception e) => e switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
        SocketException { SocketErrorCode: SocketError.TimedOut } => "timed out",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => "host not found",
        IOException { InnerException: SocketException inner } => Reason(inner),
        _ => OneLine(e.Message),
    };

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";

    private static byte[] NewPinned(ReadOnlySpan<byte> bytes)
    {
        byte[] array = GC.AllocateArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(array);
        return array;
    }

    /// <summary>What a server's INFO says that matters here.</summary>
    private readonly record struct ServerInfo(int MaxPayload, bool TlsRequired, bool TlsAvailable, string? Nonce, IReadOnlyList<string> ConnectUrls)
    {
        internal static ServerInfo Parse(byte[] json)
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            int maxPayload = root.TryGetProperty("max_payload", out JsonElement max) && max.TryGetInt32(out int value) && value > 0 ? value : DefaultMaxPayload;
            bool tlsRequired = root.TryGetProperty("tls_required", out JsonElement required) && required.ValueKind == JsonValueKind.True;
            bool tlsAvailable = root.TryGetProperty("tls_available", out JsonElement available) && available.ValueKind == JsonValueKind.True;
            string? nonce = root.TryGetProperty("nonce", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            List<string> urls = [];
            if (root.TryGetProperty("connect_urls", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement url in list.EnumerateArray())
                {
                    if (url.ValueKind == JsonValueKind.String && url.GetString() is { Length: > 0 } text)
                    {
                        urls.Add(text);
                    }
                }
            }
            return new ServerInfo(maxPayload, tlsRequired, tlsAvailable, nonce, urls);
        }
    }

    /// <summary>A subscription: its subject, its receiver, and the SUB command that makes it on a connection.</summary>
    private sealed record Subscription(string Subject, IRawMessageReceiver Receiver, byte[] Command);

    /// <summary>One TCP (or TLS) connection to one server, with the thread that reads what the server says on it.</summary>
    private sealed class Link : IDisposable
    {
        /// <summary>Bytes of a control line or message beyond max_payload the receive buffer keeps room for.</summary>
        private const int Slack = 64 * 1024;

        private readonly NatsDirectConnection _owner;
        private readonly object _pongs = new();
        private readonly MemoryHandle[] _sendPin = new MemoryHandle[1];
        private readonly int[] _sendLength = new int[1];
        private byte[] _input = new byte[Slack];
        private int _start;
        private int _end;
        private long _pongsReceived;
        private int _pongsOwed;
        private volatile string? _broken;

        internal Link(NatsDirectConnection owner, string url, Socket socket)
        {
            _owner = owner;
            Url = url;
            Socket = socket;
            Handle = socket.SafeHandle;
        }

        internal string Url { get; }

        internal Socket Socket { get; }

        internal SafeHandle Handle { get; }

        internal SslStream? Ssl { get; private set; }

        internal volatile int MaxPayload = DefaultMaxPayload;

        /// <summary>While connecting: when the server must have answered (Environment.TickCount64); afterwards never.</summary>
        internal long ReadDeadline = long.MaxValue;

        /// <summary>PINGs sent after the connect's own (written under the owner's write lock).</summary>
        internal long PingsSent;

        /// <summary>The number (in <see cref="PingsSent"/>) of the keeper's last PING; 0 before the first.</summary>
        internal long KeeperPing;

        internal long PongsReceived => Interlocked.Read(ref _pongsReceived);

        internal bool IsBroken => _broken is not null;

        internal string BrokenReason => _broken ?? "";

        internal void StartTls(string host, SslClientAuthenticationOptions options)
        {
            var ssl = new SslStream(new PolledSocketStream(this), leaveInnerStreamOpen: false);
            Ssl = ssl;
            using var timeout = new CancellationTokenSource(_owner._endpoint.ConnectTimeout);
            try
            {
                ssl.AuthenticateAsClientAsync(options, timeout.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no TLS handshake with {host} within {_owner._endpoint.ConnectTimeout.TotalSeconds:0.#} s");
            }
        }

        internal void StartReading()
        {
            new Thread(ReadLoop) { IsBackground = true, Name = "ZeroLane gateway NATS reader " + Url }.Start();
        }

        /// <summary>Writes a small command whole (CONNECT, SUB, PING, PONG). Under the owner's write lock once reading has started.</summary>
        internal void WriteControl(ReadOnlySpan<byte> command)
        {
            if (Ssl is { } ssl)
            {
                ssl.Write(command);
                return;
            }
            SendWhenWritable(command);
        }

        /// <summary>Sends the PONGs the reader owes because a message was being written when the server's PING came. Under the write lock.</summary>
        internal void PayPongs()
        {
            while (Volatile.Read(ref _pongsOwed) > 0)
            {
                WriteControl(s_pong);
                Interlocked.Decrement(ref _pongsOwed);
            }
        }

        /// <summary>The next line the server sent, without its CRLF; valid until the next read.</summary>
        internal ReadOnlySpan<byte> NextLine()
        {
            while (true)
            {
                int end = _input.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (end >= 0)
                {
                    int start = _start;
                    _start += end + 2;
                    return _input.AsSpan(start, end);
                }
                if (_end - _start >= Slack)
                {
                    throw new IOException($"the server sent a line of more than {Slack} bytes");
                }
                ReadMore(_end - _start + 1);
            }
        }

        /// <summary>Reads until at least <paramref name="count"/> bytes from the current position are buffered, making room first.</summary>
        private void ReadMore(int count)
        {
            if (_start + count > _input.Length)
            {
                byte[] target = count > _input.Length ? new byte[count + Slack] : _input;
                Buffer.BlockCopy(_input, _start, target, 0, _end - _start);
                _input = target;
                _end -= _start;
                _start = 0;
            }
            while (_end - _start < count)
            {
                int read = Ssl is { } ssl ? ssl.Read(_input, _end, _input.Length - _end) : ReceiveWhenReadable(_input.AsSpan(_end));
                if (read == 0)
                {
                    throw new IOException("the server closed the connection");
                }
                _end += read;
            }
        }

        /// <summary>
        /// Receives with recv(2) that never blocks, waiting in poll(2) while there is nothing: the runtime's own blocking
        /// receive allocates whenever it has to wait, even now and then after poll(2) said there was data.
        /// </summary>
        private int ReceiveWhenReadable(Span<byte> buffer)
        {
            while (true)
            {
                int received = VectoredSend.TryReceive(Handle, buffer);
                if (received >= 0)
                {
                    return received;
                }
                if (IsBroken)
                {
                    throw new IOException(BrokenReason);
                }
                if (Environment.TickCount64 > ReadDeadline)
                {
                    throw new TimeoutException("the server sent nothing within the connect timeout");
                }
                Socket.Poll(250_000, SelectMode.SelectRead);
            }
        }

        /// <summary>
        /// Sends all of <paramref name="bytes"/>, waiting in poll(2) while the socket is full (never inside the runtime, which
        /// would allocate its wait); a send that makes no progress for <see cref="StallLimit"/> fails. For commands and the TLS
        /// stream (messages without TLS go out by <see cref="SendAll"/>'s gather writes).
        /// </summary>
        private unsafe void SendWhenWritable(ReadOnlySpan<byte> bytes)
        {
            lock (_sendPin)
            {
                fixed (byte* start = bytes)
                {
                    _sendPin[0] = new MemoryHandle(start);
                    _sendLength[0] = bytes.Length;
                    try
                    {
                        int skip = 0;
                        long progressAt = Environment.TickCount64;
                        while (skip < bytes.Length)
                        {
                            long sent = VectoredSend.TrySend(Handle, _sendPin, _sendLength, skip);
                            if (sent < 0)
                            {
                                if (IsBroken)
                                {
                                    throw new IOException(BrokenReason);
                                }
                                if (Environment.TickCount64 - progressAt > (long)StallLimit.TotalMilliseconds)
                                {
                                    throw new IOException($"the server took nothing for {StallLimit.TotalSeconds:0} s");
                                }
                                Socket.Poll(100_000, SelectMode.SelectWrite);
                                continue;
                            }
                            skip += (int)sent;
                            progressAt = Environment.TickCount64;
                        }
                    }
                    finally
                    {
                        _sendPin[0] = default;
                    }
                }
            }
        }

        internal void Update(ServerInfo info)
        {
            MaxPayload = info.MaxPayload;
            _owner.Announce(info.ConnectUrls, new Uri(Url).Scheme);
        }

        internal bool WaitForPong(long ping, TimeSpan timeout)
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            lock (_pongs)
            {
                while (_pongsReceived < ping && !IsBroken)
                {
                    long left = deadline - Environment.TickCount64;
                    if (left <= 0)
                    {
                        return false;
                    }
                    Monitor.Wait(_pongs, (int)Math.Min(left, 100));
                }
                return _pongsReceived >= ping;
            }
        }

        /// <summary>Marks the link broken (the first reason wins) and closes its socket, which ends its reader.</summary>
        internal void Break(string reason)
        {
            if (Interlocked.CompareExchange(ref _broken, reason, null) is null)
            {
                try
                {
                    Socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Already gone.
                }
                lock (_pongs)
                {
                    Monitor.PulseAll(_pongs);
                }
                _owner._wakeKeeper.Set();
            }
        }

        private void ReadLoop()
        {
            try
            {
                while (!IsBroken)
                {
                    ReadOnlySpan<byte> line = NextLine();
                    if (line.StartsWith("HMSG "u8) || line.StartsWith("MSG "u8))
                    {
                        Deliver(line);
                    }
                    else if (line.SequenceEqual("PING"u8))
                    {
                        Interlocked.Increment(ref _pongsOwed);
                        // A message being written holds the lock for as long as the socket is full: it pays the PONG after it.
                        if (Monitor.TryEnter(_owner._write))
                        {
                            try
                            {
                                if (!IsBroken)
                                {
                                    PayPongs();
                                }
                            }
                            finally
                            {
                                Monitor.Exit(_owner._write);
                            }
                        }
                    }
                    else if (line.SequenceEqual("PONG"u8))
                    {
                        lock (_pongs)
                        {
                            _pongsReceived++;
                            Monitor.PulseAll(_pongs);
                        }
                    }
                    else if (line.StartsWith("INFO "u8))
                    {
                        Update(ServerInfo.Parse(line[5..].ToArray()));
                    }
                    else if (line.StartsWith("-ERR"u8))
                    {
                        // Most errors end the connection (the server closes it next); the rest (e.g. a permission) are said here.
                        Volatile.Write(ref _owner._lastError, $"NATS server {Url} said: {Encoding.UTF8.GetString(line[4..]).Trim().Trim('\'')}");
                    }
                }
            }
            catch (Exception e)
            {
                Break(IsBroken ? BrokenReason : Reason(e));
            }
        }

        /// <summary>
        /// Reads the message announced by <paramref name="line"/> ("MSG SUBJECT SID [REPLY] SIZE" or "HMSG SUBJECT SID [REPLY]
        /// HEADERSIZE SIZE") and hands its header block and payload, in place in the receive buffer, to its subscription.
        /// </summary>
        internal void Deliver(ReadOnlySpan<byte> line)
        {
            bool headers = line[0] == (byte)'H';
            Span<Range> fields = stackalloc Range[7];
            int count = 0;
            foreach (Range range in line.Split((byte)' '))
            {
                if (line[range].IsEmpty)
                {
                    continue;
                }
                if (count == fields.Length)
                {
                    count++;
                    break;
                }
                fields[count++] = range;
            }
            // MSG: verb, subject, SID, [reply], size. HMSG: verb, subject, SID, [reply], header size, size.
            int least = headers ? 5 : 4;
            long size = -1, headerSize = 0;
            int sid = -1;
            if (count >= least && count <= least + 1 &&
                Utf8Parser.TryParse(line[fields[2]], out sid, out int used) && used == line[fields[2]].Length &&
                Utf8Parser.TryParse(line[fields[count - 1]], out size, out used) && used == line[fields[count - 1]].Length &&
                (!headers || (Utf8Parser.TryParse(line[fields[count - 2]], out headerSize, out used) && used == line[fields[count - 2]].Length)))
            {
                // Parsed.
            }
            else
            {
                size = -1;
            }
            if (size < 0 || headerSize < 0 || headerSize > size || size > MaxPayload + (long)Slack || sid < 0)
            {
                throw new IOException($"the server sent a malformed message line '{Shorten(Encoding.UTF8.GetString(line))}'");
            }
            ReadMore((int)size + 2);
            int at = _start;
            _start += (int)size + 2;
            lock (_owner._subscriptions)
            {
                if (_owner.ReceiverOf(sid) is { } receiver)
                {
                    ReadOnlySequence<byte>? block = headers ? new ReadOnlySequence<byte>(_input, at, (int)headerSize) : null;
                    receiver.Receive(block, new ReadOnlySequence<byte>(_input, at + (int)headerSize, (int)(size - headerSize)));
                }
            }
        }

        /// <summary>
        /// The socket as a stream for <see cref="SslStream"/>: reads and writes wait in poll(2), as the plain connection's do,
        /// so TLS allocates nothing per message either (the runtime's own blocking socket calls allocate each time they wait).
        /// </summary>
        private sealed class PolledSocketStream(Link link) : Stream
        {
            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position
            {
                get => throw new NotSupportedException();
                set => throw new NotSupportedException();
            }

            public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

            public override int Read(Span<byte> buffer) => link.ReceiveWhenReadable(buffer);

            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

            public override void Write(ReadOnlySpan<byte> buffer) => link.SendWhenWritable(buffer);

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new(Read(buffer.Span));

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return ValueTask.FromCanceled(cancellationToken);
                }
                Write(buffer.Span);
                return ValueTask.CompletedTask;
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override void Flush()
            {
            }

            public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();
        }

        public void Dispose()
        {
            Break("closed");
            try
            {
                Ssl?.Dispose();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // Closing a broken TLS session.
            }
            // The reader ends on its own once the socket is closed (it may be waiting for the write lock the caller holds).
            Socket.Dispose();
        }
    }
}
