using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using ZeroLane.Topics;

namespace ZeroLane.Nats;

/// <summary>
/// Carries topics between hosts through NATS (PROTOCOL.md 16): every local topic matching one of
/// <see cref="NatsGatewayOptions.Topics"/> that has a local publisher is exported (its samples read in place and
/// published to <c>zerolane.TOPIC</c>), and every such topic that has a local subscriber is imported (its samples from
/// other hosts republished into the local topic, one local publisher per remote publisher). Run one per host; local
/// publishers and subscribers need no change and still exchange samples in shared memory without copies.
/// </summary>
/// <remarks>
/// <para>Loops are impossible: the gateway's local publishers are flagged forwarded in shared memory, and no gateway
/// exports a forwarded sample; a message carrying this gateway's own ID is never imported.</para>
/// <para>A host pulls a topic's traffic from NATS only while the topic has local subscribers (other than gateways).</para>
/// <para>Core NATS delivers at most once: samples lost on the way are detected by their sequence numbers and counted per
/// remote publisher (<see cref="TopicPublisherInfo.ForwardLost"/>, <c>zerolane topics</c>), never hidden; a chunked sample
/// missing a chunk is dropped whole. A slow network never blocks local publishers unless
/// <see cref="NatsGatewayOptions.Overflow"/> says so: the gateway's subscriber drops its oldest queued sample (counted).</para>
/// </remarks>
public sealed class NatsGateway : IAsyncDisposable, IDisposable
{
    private readonly NatsConnection _connection;
    private readonly bool _ownsConnection;
    private readonly NatsGatewayOptions _options;
    private readonly TopicPattern[] _patterns;
    private readonly Dictionary<string, ExportedTopic> _exports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ImportedTopic> _imports = new(StringComparer.Ordinal);
    private readonly List<ExportedTopic> _closingExports = new();
    private readonly List<ImportedTopic> _closingImports = new();
    private readonly HashSet<string> _uncarriable = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _sync = new();
    private readonly GatewayCounters _counters = new();
    private readonly GatewayMetrics _metrics;
    private Task _discovery = Task.CompletedTask;
    private readonly string _statusFile;
    private long _statusWritten;
    private int _disposed;

    private NatsGateway(NatsConnection connection, bool ownsConnection, NatsGatewayOptions options, TopicPattern[] patterns, NatsEndpoint? endpoint)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        _options = options;
        _patterns = patterns;
        Id = NatsWire.NewSenderId();
        JetStream = options.Durable ? new NatsJSContext(connection) : null;
        DirectConnection = endpoint is not null && options.DirectConnection && !options.Durable
            ? new NatsDirectConnection(endpoint) { Reconnected = () => Interlocked.Increment(ref _counters.Reconnects) }
            : null;
        NatsGatewayInspector.RemoveStale();
        _statusFile = NatsGatewayInspector.PathOf(Environment.ProcessId, Id);
        _metrics = new GatewayMetrics(this);
        _connection.ConnectionOpened += OnConnectionOpened;
    }

    /// <summary>This gateway's ID: random per start, carried in every message it sends (header <c>Zl-Gw</c>).</summary>
    public ulong Id { get; }

    /// <summary>The gateway's name (<see cref="NatsGatewayOptions.Name"/>).</summary>
    public string Name => _options.Name;

    /// <summary>The NATS connection the gateway uses.</summary>
    public NatsConnection Connection => _connection;

    internal GatewayCounters Counters => _counters;

    /// <summary>The JetStream context of a durable gateway; null for core NATS.</summary>
    internal INatsJSContext? JetStream { get; }

    /// <summary>
    /// The gateway's own connection, which carries every sample both ways (<see cref="NatsGatewayOptions.DirectConnection"/>);
    /// null when they go through NATS.Net's <see cref="Connection"/>.
    /// </summary>
    internal NatsDirectConnection? DirectConnection { get; }

    /// <summary>"host:port" of the server the connection carrying the samples is on; empty while it is not connected.</summary>
    internal string ServerAddress
    {
        get
        {
            if (DirectConnection is { } direct)
            {
                return direct.ServerUrl is { } url && Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) ? $"{uri.Host}:{uri.Port}" : "";
            }
            return _connection.ConnectionState == NatsConnectionState.Open && _connection.ServerInfo is { } server ? $"{server.Host}:{server.Port}" : "";
        }
    }

    /// <summary>
    /// Starts a gateway over <paramref name="connection"/> (which the caller keeps and disposes after the gateway): the first
    /// look at local topics is done, and their NATS subscriptions made, when this completes.
    /// </summary>
    /// <exception cref="ArgumentException">A pattern is invalid, or there is none.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static Task<NatsGateway> StartAsync(NatsConnection connection, NatsGatewayOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return StartAsync(connection, ownsConnection: false, options, endpoint: null, cancellationToken);
    }

    /// <summary>
    /// Connects to NATS as <paramref name="endpoint"/> says (trying its URLs in order, with back-off, within its connect
    /// timeout), then starts a gateway over that connection, which the gateway closes when disposed. The connection
    /// reconnects by itself across the URLs when a server goes away; <see cref="NatsGatewayStatistics.Reconnects"/> counts it.
    /// </summary>
    /// <exception cref="NatsGatewayConnectException">No server could be reached, or one refused the credentials or TLS: the
    /// message says which and what to do.</exception>
    /// <exception cref="ArgumentException">A pattern or an endpoint setting is invalid.</exception>
    public static async Task<NatsGateway> StartAsync(NatsEndpoint endpoint, NatsGatewayOptions options, ILogger? log = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Validate(options);
        endpoint.Validate();
        NatsConnection connection = await NatsConnector.ConnectAsync(endpoint, log, cancellationToken).ConfigureAwait(false);
        try
        {
            return await StartAsync(connection, ownsConnection: true, options, endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    internal static async Task<NatsGateway> StartAsync(NatsConnection connection, bool ownsConnection, NatsGatewayOptions options,
        NatsEndpoint? endpoint, CancellationToken cancellationToken)
    {
        TopicPattern[] patterns = Validate(options);
        await connection.ConnectAsync().ConfigureAwait(false);
        var gateway = new NatsGateway(connection, ownsConnection, options, patterns, endpoint);
        try
        {
            if (gateway.DirectConnection is { } direct)
            {
                await Task.Run(() => direct.Connect(cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            await gateway.DiscoverAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await gateway.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        gateway.WriteStatus();
        gateway._discovery = Task.Run(gateway.DiscoverLoopAsync);
        return gateway;
    }

    /// <summary>What the gateway has carried so far, and which topics it carries now.</summary>
    public NatsGatewayStatistics Statistics
    {
        get
        {
            lock (_sync)
            {
                long exportDrops = _counters.ExportDropsOfClosed;
                // Topics being closed count until their figures are added to those of closed topics.
                foreach (ExportedTopic export in _exports.Values.Concat(_closingExports))
                {
                    exportDrops += export.Dropped;
                }
                long lost = _counters.LostOfClosed, noRoom = _counters.NoRoomOfClosed, stale = _counters.StaleOfClosed;
                foreach (ImportedTopic import in _imports.Values.Concat(_closingImports))
                {
                    (long l, long n) = import.LostAndNoRoom();
                    lost += l;
                    noRoom += n;
                    stale += import.Stale();
                }
                return new NatsGatewayStatistics
                {
                    Name = Name,
                    GatewayId = Id,
                    SamplesSent = Interlocked.Read(ref _counters.SamplesSent),
                    BytesSent = Interlocked.Read(ref _counters.BytesSent),
                    SamplesReceived = Interlocked.Read(ref _counters.SamplesReceived),
                    BytesReceived = Interlocked.Read(ref _counters.BytesReceived),
                    SamplesDroppedLocally = exportDrops,
                    SamplesLost = lost,
                    SamplesWithoutRoom = noRoom,
                    MessagesRejected = Interlocked.Read(ref _counters.Rejected),
                    MessagesStale = stale,
                    SendFailures = Interlocked.Read(ref _counters.SendFailures),
                    Reconnects = Interlocked.Read(ref _counters.Reconnects),
                    DirectConnection = DirectConnection is not null,
                    ExportedTopics = _exports.Keys.Order(StringComparer.Ordinal).ToArray(),
                    ImportedTopics = _imports.Keys.Order(StringComparer.Ordinal).ToArray(),
                    LastError = _counters.LastError,
                };
            }
        }
    }

    /// <summary>
    /// Looks at local topics now (instead of at the next <see cref="NatsGatewayOptions.DiscoveryInterval"/>): starts and
    /// stops exporting and importing as their publishers and subscribers came and went. When this completes, the NATS
    /// subscriptions of the topics imported have reached the server.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await DiscoverAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Rewrites this gateway's status file for <see cref="NatsGatewayInspector"/> (and <c>zerolane topics</c>).</summary>
    private void WriteStatus()
    {
        try
        {
            NatsGatewayInspector.Write(this, _statusFile);
            _statusWritten = Environment.TickCount64;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _counters.LastError = $"The gateway's status file {_statusFile} could not be written: {e.Message}";
        }
    }

    private async Task DiscoverLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.DiscoveryInterval, stop).ConfigureAwait(false);
                await DiscoverAsync(stop).ConfigureAwait(false);
                if (Environment.TickCount64 - _statusWritten >= 1000)
                {
                    WriteStatus();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A topic that could not be taken up now (e.g. its shared memory was corrupt) is tried again at the next look.
                _counters.LastError = e.Message;
            }
        }
    }

    private readonly SemaphoreSlim _discovering = new(1, 1);

    private async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        await _discovering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var toImport = new List<ImportedTopic>();
            var toUnsubscribe = new List<ImportedTopic>();
            var toStop = new List<ExportedTopic>();
            lock (_sync)
            {
                if (Volatile.Read(ref _disposed) != 0)
                {
                    return;
                }
                TopicSnapshot snapshot = TopicInspector.Snapshot();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (TopicInfo topic in snapshot.Topics)
                {
                    if (!IsCarried(topic.Topic))
                    {
                        continue;
                    }
                    seen.Add(topic.Topic);
                    bool publisher = _options.Direction != GatewayDirection.Import &&
                        topic.Publishers.Any(p => p.Alive && !p.Forwarded && p.State == TopicPublisherState.Open);
                    bool subscriber = _options.Direction != GatewayDirection.Export &&
                        topic.Subscribers.Any(s => s.Alive && !IsOwnSubscriber(topic.Topic, s.Id));
                    if (publisher && !_exports.ContainsKey(topic.Topic))
                    {
                        _exports[topic.Topic] = new ExportedTopic(this, topic.Topic, NatsSubjects.ForTopic(topic.Topic));
                    }
                    else if (!publisher && _exports.TryGetValue(topic.Topic, out ExportedTopic? export) && export.IdleLongEnough())
                    {
                        _exports.Remove(topic.Topic);
                        toStop.Add(export);
                    }
                    else if (publisher && _exports.TryGetValue(topic.Topic, out export))
                    {
                        export.MarkBusy();
                    }
                    if (subscriber && !_imports.ContainsKey(topic.Topic))
                    {
                        var import = new ImportedTopic(this, topic.Topic, NatsSubjects.ForTopic(topic.Topic));
                        _imports[topic.Topic] = import;
                        toImport.Add(import);
                    }
                    else if (!subscriber && _imports.Remove(topic.Topic, out ImportedTopic? import))
                    {
                        toUnsubscribe.Add(import);
                    }
                }
                foreach (string gone in _exports.Keys.Where(t => !seen.Contains(t)).ToArray())
                {
                    if (_exports[gone].IdleLongEnough())
                    {
                        toStop.Add(_exports[gone]);
                        _exports.Remove(gone);
                    }
                }
                foreach (string gone in _imports.Keys.Where(t => !seen.Contains(t)).ToArray())
                {
                    toUnsubscribe.Add(_imports[gone]);
                    _imports.Remove(gone);
                }
                foreach (ImportedTopic import in _imports.Values)
                {
                    import.Sweep(_options.ChunkTimeout, _options.OriginIdleTimeout);
                }
                _closingExports.AddRange(toStop);
                _closingImports.AddRange(toUnsubscribe);
            }
            foreach (ExportedTopic export in toStop)
            {
                export.Dispose();
                lock (_sync)
                {
                    _closingExports.Remove(export);
                    Interlocked.Add(ref _counters.ExportDropsOfClosed, export.Dropped);
                }
            }
            foreach (ImportedTopic import in toUnsubscribe)
            {
                await import.DisposeAsync().ConfigureAwait(false);
                lock (_sync)
                {
                    _closingImports.Remove(import);
                    (long lost, long noRoom) = import.LostAndNoRoom();
                    Interlocked.Add(ref _counters.LostOfClosed, lost);
                    Interlocked.Add(ref _counters.NoRoomOfClosed, noRoom);
                    Interlocked.Add(ref _counters.StaleOfClosed, import.Stale());
                }
            }
            foreach (ImportedTopic import in toImport)
            {
                await import.SubscribeAsync(cancellationToken).ConfigureAwait(false);
            }
            if (toImport.Count > 0)
            {
                // The server reads a connection's commands in order: its answer to this ping means it has every SUB above.
                if (DirectConnection is { } direct)
                {
                    await Task.Run(() => direct.Flush(TimeSpan.FromSeconds(5)), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _connection.PingAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _discovering.Release();
        }
    }

    private bool IsCarried(string topic)
    {
        if (_uncarriable.Contains(topic) || !Array.Exists(_patterns, p => p.Matches(topic)))
        {
            return false;
        }
        try
        {
            NatsSubjects.ForTopic(topic);
            return true;
        }
        catch (ArgumentException e)
        {
            _uncarriable.Add(topic);
            _counters.LastError = e.Message;
            return false;
        }
    }

    private bool IsOwnSubscriber(string topic, ulong id) => _exports.TryGetValue(topic, out ExportedTopic? export) && export.SubscriberId == id;

    private ValueTask OnConnectionOpened(object? sender, NatsEventArgs args)
    {
        // The first open happens before the gateway exists (StartAsync connects first); every later one is a reconnect. With
        // a direct connection, that one carries the samples and counts its own reconnects.
        if (DirectConnection is null)
        {
            Interlocked.Increment(ref _counters.Reconnects);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops carrying: unsubscribes from NATS, closes the local publishers and subscribers it made, and (if it made the connection) closes it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stop.Cancel();
        try
        {
            await _discovery.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _discovering.WaitAsync().ConfigureAwait(false);
        _connection.ConnectionOpened -= OnConnectionOpened;
        ExportedTopic[] exports;
        ImportedTopic[] imports;
        lock (_sync)
        {
            exports = _exports.Values.ToArray();
            imports = _imports.Values.ToArray();
            _exports.Clear();
            _imports.Clear();
        }
        foreach (ExportedTopic export in exports)
        {
            export.Dispose();
        }
        foreach (ImportedTopic import in imports)
        {
            await import.DisposeAsync().ConfigureAwait(false);
        }
        _metrics.Dispose();
        DirectConnection?.Dispose();
        File.Delete(_statusFile);
        if (_ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    /// <summary>Same as <see cref="DisposeAsync"/>, waiting for it.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal PublisherOptions ImportOptionsFor(ulong origin) => _options.ImportOptions with { ForwardedFrom = origin == 0 ? ForeignOrigin : origin };

    internal NatsGatewayOptions Options => _options;

    /// <summary>The origin recorded for samples of plain NATS publishers (no ZeroLane headers).</summary>
    internal const ulong ForeignOrigin = ulong.MaxValue;

    private static TopicPattern[] Validate(NatsGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Topics is null || options.Topics.Count == 0)
        {
            throw new ArgumentException("A gateway needs at least one topic pattern to carry (e.g. 'camera.*' or '>').", nameof(options));
        }
        if (options.DiscoveryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.DiscoveryInterval, "DiscoveryInterval must be positive.");
        }
        if (options.MaxSampleSize is < 1 or > 1L << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSampleSize, "MaxSampleSize must be 1 byte to 1 GiB.");
        }
        if (options.ChunkTimeout <= TimeSpan.Zero || options.OriginIdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "ChunkTimeout and OriginIdleTimeout must be positive.");
        }
        ArgumentNullException.ThrowIfNull(options.ImportOptions);
        if (options.DurableReplay < 0 || options.DurableMaxMessages < 1 || options.DurableMaxBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "DurableReplay must be 0 or more, DurableMaxMessages and DurableMaxBytes 1 or more.");
        }
        if (!Enum.IsDefined(options.Direction))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Direction, "Direction must be Both, Export or Import.");
        }
        return options.Topics.Select(TopicPattern.Parse).ToArray();
    }
}
