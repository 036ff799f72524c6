using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;

namespace ZeroLane.Nats;

/// <summary>
/// Opens the gateway's NATS connection from a <see cref="NatsEndpoint"/>, and turns every way that can fail into one
/// <see cref="NatsGatewayConnectException"/> with a one-line message.
/// </summary>
/// <remarks>
/// Design: NATS.Net's own retry of the first connect (<c>RetryOnInitialConnect</c>) cannot tell an unreachable server from
/// refused credentials, and its "can not connect uris" error drops the socket error. So each attempt here is one plain
/// <see cref="NatsConnection.ConnectAsync"/> (every URL once, in order), NATS.Net's log is watched for the server being
/// tried and the socket error it met, and only failures that waiting can cure (nothing listening, timeouts) are tried
/// again, with back-off, until <see cref="NatsEndpoint.ConnectTimeout"/>. Credentials, TLS and file problems end at once.
/// </remarks>
internal static class NatsConnector
{
    private const string WhatToDoUnreachable = "Start nats-server or fix --nats.";
    private const string WhatToDoCredentials = "check --user/--password, --token, --nkey or --creds.";
    private static readonly TimeSpan s_leastWait = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Connects, trying every URL in order and again with back-off while none can be reached, until
    /// <see cref="NatsEndpoint.ConnectTimeout"/>. The caller owns (and disposes) the connection.
    /// </summary>
    /// <exception cref="ArgumentException">The endpoint is invalid (<see cref="NatsEndpoint.Validate"/>).</exception>
    /// <exception cref="NatsGatewayConnectException">No connection; the message says why and what to do.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    internal static async Task<NatsConnection> ConnectAsync(NatsEndpoint endpoint, ILogger? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        NatsOpts baseOpts = endpoint.ToNatsOpts();
        CheckFiles(endpoint);
        ILogger logger = log ?? NullLogger.Instance;
        var watch = new ConnectWatch(logger);
        NatsOpts opts = baseOpts with { LoggerFactory = watch };

        var clock = Stopwatch.StartNew();
        // A zero ReconnectWaitMin would spin through attempts against a port that refuses at once.
        TimeSpan wait = endpoint.ReconnectWaitMin > s_leastWait ? endpoint.ReconnectWaitMin : s_leastWait;
        Exception? lastCause = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TimeSpan remaining = endpoint.ConnectTimeout - clock.Elapsed;
            watch.BeginAttempt();
            var connection = new NatsConnection(opts);
            Exception failure;
            Task connect = connection.ConnectAsync().AsTask();
            try
            {
                // The first attempt runs to its end (each step bounded by NATS.Net's own ConnectTimeout), so even a slow
                // machine reports what the servers answered; later ones are cut at the deadline.
                TimeSpan limit = lastCause is null ? Timeout.InfiniteTimeSpan : remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
                await connect.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
                watch.EndFirstConnect();
                logger.LogInformation("Connected to NATS {Url} as {Name}.", watch.LastUrl, endpoint.Name);
                return connection;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                ObserveAndDispose(connect, connection);
                throw;
            }
            catch (Exception e)
            {
                // NatsException from NATS.Net, TimeoutException from WaitAsync; anything else is classified (or retried) too.
                failure = e;
            }
            // What the server last announced (INFO) survives the failure: it tells a refused client certificate apart.
            INatsServerInfo? info = connect.IsCompleted ? connection.ServerInfo : null;
            ObserveAndDispose(connect, connection);

            if (Fatal(failure, watch.LastUrl, info, endpoint) is { } fatal)
            {
                throw fatal;
            }
            // An attempt the deadline cut short says only "timed out"; an earlier attempt's socket error says more.
            bool cutShort = failure is TimeoutException && watch.LastSocketError is null && lastCause is not null;
            Exception cause = cutShort ? lastCause! : watch.LastSocketError ?? failure;
            lastCause = cause;
            string reason = Reason(cause);
            remaining = endpoint.ConnectTimeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new NatsGatewayConnectException(
                    $"Could not reach any NATS server ({string.Join(", ", endpoint.Urls)}) within {Seconds(endpoint.ConnectTimeout)}: {reason}. {WhatToDoUnreachable}",
                    cause);
            }
            TimeSpan delay = wait < remaining ? wait : remaining;
            logger.LogInformation("No NATS server reachable yet ({Reason}); trying again in {Delay}.", reason, Seconds(delay));
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            wait = TimeSpan.FromTicks(Math.Max(s_leastWait.Ticks, Math.Min(wait.Ticks * 2, endpoint.ReconnectWaitMax.Ticks)));
        }
    }

    /// <summary>
    /// Calls <paramref name="onReconnect"/> each time <paramref name="connection"/> is open again after being lost (not on
    /// the first connect), until the returned object is disposed. For a gateway's reconnect counter.
    /// </summary>
    internal static IDisposable TrackReconnects(NatsConnection connection, Action onReconnect)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(onReconnect);
        return new ReconnectTracker(connection, onReconnect);
    }

    /// <summary>Checks the credential and TLS files before any network traffic, so a typo is named as one.</summary>
    private static void CheckFiles(NatsEndpoint endpoint)
    {
        if (endpoint.NKeySeedFile is { } seedFile)
        {
            string text = ReadFile(seedFile, "NKey seed file", "--nkey");
            try
            {
                _ = NatsEndpoint.ParseNKeySeed(text, seedFile);
            }
            catch (FormatException e)
            {
                throw new NatsGatewayConnectException(e.Message, e);
            }
        }
        if (endpoint.CredsFile is { } credsFile)
        {
            string text = ReadFile(credsFile, "creds file", "--creds");
            if (!HasBlock(text, "-----BEGIN NATS USER JWT-----") || !HasBlock(text, "-----BEGIN USER NKEY SEED-----"))
            {
                throw new NatsGatewayConnectException(
                    $"NATS creds file '{credsFile}' is not a .creds file (it needs a user JWT block and a user NKey seed block): give the file 'nsc generate creds' wrote.");
            }
        }
        if (endpoint.TlsCaFile is { } caFile)
        {
            _ = ReadFile(caFile, "TLS CA file", "--tls-ca");
        }
        if (endpoint.TlsCertFile is { } certFile)
        {
            _ = ReadFile(certFile, "TLS certificate file", "--tls-cert");
        }
        if (endpoint.TlsKeyFile is { } keyFile)
        {
            _ = ReadFile(keyFile, "TLS key file", "--tls-key");
        }
    }

    private static bool HasBlock(string text, string marker)
    {
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return false;
        }
        string[] after = text[(at + marker.Length)..].Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return after.Length > 0 && !after[0].StartsWith("-----", StringComparison.Ordinal);
    }

    private static string ReadFile(string path, string what, string option)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NatsGatewayConnectException($"NATS {what} '{path}' does not exist: check {option}.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new NatsGatewayConnectException($"NATS {what} '{path}' cannot be read (permission denied, or a directory): check {option} and the file's owner.", e);
        }
        catch (IOException e)
        {
            throw new NatsGatewayConnectException($"NATS {what} '{path}' cannot be read ({OneLine(e.Message)}): check {option}.", e);
        }
    }

    /// <summary>The exception for a failure that trying again would not cure; null when it may (nothing listening yet).</summary>
    private static NatsGatewayConnectException? Fatal(Exception failure, string? url, INatsServerInfo? info, NatsEndpoint endpoint)
    {
        string server = url is null ? "The NATS server" : $"NATS server {url}";
        for (Exception? e = failure; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case NatsServerException { IsAuthError: true } auth:
                    return new NatsGatewayConnectException(
                        $"{server} refused the credentials ({auth.Error.Trim('\'', ' ')}): {WhatToDoCredentials}", failure);
                case AuthenticationException tls:
                    return new NatsGatewayConnectException(
                        $"TLS handshake with {server} failed ({OneLine(tls.Message)}): give the CA that signed its certificate with --tls-ca " +
                        "(and --tls-cert/--tls-key if it verifies clients).", failure);
                case NatsServerException other:
                    // A server that answers but refuses (too many connections, a bad option): not cured by waiting.
                    return new NatsGatewayConnectException($"{server} refused the connection ({OneLine(other.Error)}): check its log.", failure);
                case NatsException nats when nats.Message.Contains("does not support TLS", StringComparison.Ordinal):
                    return new NatsGatewayConnectException(
                        $"{server} does not offer TLS but its URL says tls://: write nats:// or enable tls in the server's configuration.", failure);
                case NatsException nats when nats.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) ||
                                             nats.Message.Contains("creds file", StringComparison.OrdinalIgnoreCase) ||
                                             nats.Message.Contains("NKEY", StringComparison.Ordinal):
                    return new NatsGatewayConnectException($"NATS credentials could not be used ({OneLine(nats.Message)}): {WhatToDoCredentials}", failure);
                case Exception file when file is FileNotFoundException or UnauthorizedAccessException or FormatException or ArgumentException:
                    return new NatsGatewayConnectException($"NATS credentials or TLS files could not be used ({OneLine(file.Message)}): check them.", failure);
            }
        }
        // A server that verifies clients (tls { verify: true }) ends the TLS session when it dislikes the client's
        // certificate, which the client sees only as a closed socket after a handshake that succeeded on its side.
        if (info is { TlsVerify: true } && failure is not TimeoutException)
        {
            return endpoint.TlsCertFile is null
                ? new NatsGatewayConnectException(
                    $"{server} requires a client certificate (its tls block has verify: true) and closed the connection: give --tls-cert and --tls-key.", failure)
                : new NatsGatewayConnectException(
                    $"{server} verifies client certificates and closed the connection after the TLS handshake: check that --tls-cert and --tls-key " +
                    "match and are signed by a CA in the server's ca_file.", failure);
        }
        return null;
    }

    private static string Reason(Exception failure) => failure switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
        SocketException { SocketErrorCode: SocketError.TimedOut } => "timed out",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => "host not found",
        SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable } => "network unreachable",
        SocketException socket => OneLine(socket.Message),
        TimeoutException => "timed out",
        _ => OneLine(failure.InnerException is { } inner && failure is NatsException ? inner.Message : failure.Message),
    };

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Seconds(TimeSpan time) => time < TimeSpan.FromSeconds(1)
        ? string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.#} s");

    /// <summary>Disposes a connection that did not open; a connect still running is observed so its failure is not left unobserved.</summary>
    private static void ObserveAndDispose(Task connect, NatsConnection connection)
    {
        _ = connect.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _ = DisposeQuietlyAsync(connection);
    }

    private static async Task DisposeQuietlyAsync(NatsConnection connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A connection that never opened: nothing of the caller's is lost if its cleanup fails.
        }
    }

    /// <summary>
    /// NATS.Net's log, passed on to the caller's logger, watched for the URL being tried ("Connect to NATS ... {Uri}") and
    /// the socket error of the last failed attempt. During the first connect NATS.Net's errors are passed on as Debug: the
    /// connector reports the outcome itself, once.
    /// </summary>
    private sealed class ConnectWatch(ILogger target) : ILoggerFactory, ILogger
    {
        private volatile bool _firstConnect = true;
        private volatile string? _lastUrl;
        private volatile SocketException? _lastSocketError;

        internal string? LastUrl => _lastUrl;

        internal SocketException? LastSocketError => _lastSocketError;

        internal void BeginAttempt()
        {
            _lastUrl = null;
            _lastSocketError = null;
        }

        internal void EndFirstConnect() => _firstConnect = false;

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => target.BeginScope(state);

        // Everything while watching the first connect; afterwards only what the caller logs, so NATS.Net skips the rest.
        public bool IsEnabled(LogLevel logLevel) => _firstConnect || target.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (_firstConnect)
            {
                if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
                {
                    foreach ((string key, object? value) in values)
                    {
                        if (key is "Uri" or "Url" && value is not null)
                        {
                            _lastUrl = value.ToString()?.TrimEnd('/');
                        }
                    }
                }
                for (Exception? e = exception; e is not null; e = e.InnerException)
                {
                    if (e is SocketException socket)
                    {
                        _lastSocketError = socket;
                        break;
                    }
                }
                logLevel = logLevel > LogLevel.Debug ? LogLevel.Debug : logLevel;
            }
            if (target.IsEnabled(logLevel))
            {
                target.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }

    /// <summary>Counts a reconnect when the connection opens after a disconnect; the first open is not one.</summary>
    private sealed class ReconnectTracker : IDisposable
    {
        private readonly NatsConnection _connection;
        private readonly Action _onReconnect;
        private int _disconnected;

        internal ReconnectTracker(NatsConnection connection, Action onReconnect)
        {
            _connection = connection;
            _onReconnect = onReconnect;
            connection.ConnectionDisconnected += OnDisconnectedAsync;
            connection.ConnectionOpened += OnOpenedAsync;
        }

        private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
        {
            Volatile.Write(ref _disconnected, 1);
            return ValueTask.CompletedTask;
        }

        private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
        {
            if (Interlocked.Exchange(ref _disconnected, 0) == 1)
            {
                _onReconnect();
            }
            return ValueTask.CompletedTask;
        }

        public void Dispose()
        {
            _connection.ConnectionDisconnected -= OnDisconnectedAsync;
            _connection.ConnectionOpened -= OnOpenedAsync;
        }
    }
}
