using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Duplex;

/// <summary>
/// A duplex service NAME: any number of clients at once, each on a duplex channel of its own (two rings), all answered
/// by one handler. Found without a daemon: clients join through files in /dev/shm (PROTOCOL.md 14.6) with
/// <see cref="Connect"/>, which returns an ordinary <see cref="DuplexClient"/>.
/// </summary>
/// <remarks>
/// Design: the live service holds an flock on <c>/dev/shm/zls.NAME.service</c>, which records its PID and start time. A
/// client creates and locks a join file <c>/dev/shm/zls.NAME.c.PID.ID</c>; the service, woken by the /dev/shm watch
/// (<see cref="SharedMemoryWatch"/>), starts a <see cref="DuplexServer"/> for channel <c>zls.NAME.c.PID.ID</c>, whose
/// request ring appearing is the client's signal to connect as to any channel. One thread of the service's own admits
/// clients and, every <see cref="Buffers.ReaderOptions.PeerCheckInterval"/> of the request ring, lets go of those that left or
/// died: their server's session ended, or the client is gone before it connected (its join file names a dead process, or
/// it holds neither join file nor response ring). A client let go has its request ring removed by its server and its
/// response ring, if it died, removed here (looked at again every round until its process is gone: a dying process frees
/// its locks a moment before it is gone). Only that thread changes the set of clients; the counters are read under a
/// lock.
/// </remarks>
public sealed partial class DuplexService : IDisposable, IAsyncDisposable
{
    private readonly DuplexServiceNames _names;
    private readonly DuplexServiceOptions _options;
    private readonly DuplexRequestHandler? _handler;
    private readonly DuplexLoanHandler? _loanHandler;
    private readonly IIpcPlatform _platform = IpcPlatform.Current;
    private readonly FileLock _serviceLock;
    private readonly IDisposable _watch;
    private readonly AutoResetEvent _wake = new(false);
    private readonly object _sync = new();
    private readonly Dictionary<string, Member> _clients = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private readonly List<Task> _leaving = new();
    private readonly List<Member> _releasing = new();
    private readonly List<Member> _leftovers = new();
    private readonly TaskCompletionSource _threadEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private Task<bool>? _stop;
    private volatile bool _stopping;
    private long _clientsJoined;
    private long _clientsLeft;
    private long _clientsRefused;
    private long _answeredByLeft;
    private Exception? _fault;

    /// <summary>Starts service <paramref name="name"/>, answering every client's requests with <paramref name="handler"/>.</summary>
    /// <exception cref="InvalidNameException">The name is not allowed, or too long for its clients' ring names.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live service of that name already runs.</exception>
    public DuplexService(string name, DuplexRequestHandler handler, DuplexServiceOptions? options = null)
        : this(name, options, handler ?? throw new ArgumentNullException(nameof(handler)), null)
    {
    }

    /// <summary>
    /// Starts service <paramref name="name"/>, answering every client's requests with <paramref name="handler"/>, which
    /// writes each response in place into the client's response ring.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed, or too long for its clients' ring names.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live service of that name already runs.</exception>
    public DuplexService(string name, DuplexLoanHandler handler, DuplexServiceOptions? options = null)
        : this(name, options, null, handler ?? throw new ArgumentNullException(nameof(handler)))
    {
    }

    private DuplexService(string name, DuplexServiceOptions? options, DuplexRequestHandler? handler, DuplexLoanHandler? loanHandler)
    {
        _names = DuplexServiceNames.Create(name);
        _options = options ?? new DuplexServiceOptions();
        _options.Validate();
        Name = name;
        _handler = handler;
        _loanHandler = loanHandler;
        DuplexServiceCleaner.RemoveStale(_platform, _names, LockDirectory);
        _serviceLock = AcquireServiceLock();
        try
        {
            DuplexServiceFile.WriteOwner(_names.ServicePath, _platform.CurrentProcess);
            _watch = SharedMemoryWatch.Watch(_names.ClientPrefix, () => Signal(_wake));
        }
        catch
        {
            _serviceLock.Dispose();
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "ZeroLane duplex service " + name };
        _thread.Start();
    }

    /// <summary>The service's name.</summary>
    public string Name { get; }

    /// <summary>Clients served now.</summary>
    public int ClientCount
    {
        get
        {
            lock (_sync)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>Clients admitted so far.</summary>
    public long ClientsJoined => Interlocked.Read(ref _clientsJoined);

    /// <summary>Clients that left or died and were let go (their rings removed).</summary>
    public long ClientsLeft => Interlocked.Read(ref _clientsLeft);

    /// <summary>Clients refused (<see cref="DuplexServiceOptions.MaxClients"/> reached, or their request ring could not be created).</summary>
    public long ClientsRefused => Interlocked.Read(ref _clientsRefused);

    /// <summary>Requests answered so far for every client, failed ones included.</summary>
    public long RequestsAnswered
    {
        get
        {
            lock (_sync)
            {
                return _answeredByLeft + _clients.Values.Concat(_releasing).Sum(c => c.Server.RequestsAnswered);
            }
        }
    }

    /// <summary>True while the service admits clients (until stopped or faulted).</summary>
    public bool IsRunning => !_threadEnded.Task.IsCompleted;

    /// <summary>What stopped the service on its own; null while it runs or when it was stopped.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    private string LockDirectory => _options.Server.RequestRing.LockDirectory;

    private TimeSpan CheckInterval => _options.Server.RequestRing.PeerCheckInterval;

    /// <summary>
    /// Stops admitting clients, removes the service file, then stops every client's server as
    /// <see cref="DuplexServer.StopAsync"/> does (each client's pending calls then fail with
    /// <see cref="DuplexServerGoneException"/>). Returns false if some request in progress outlived
    /// <paramref name="timeout"/>; its rings are released when its handler returns.
    /// </summary>
    public Task<bool> StopAsync(TimeSpan timeout)
    {
        var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _stop, stop.Task, null) is { } already)
        {
            return already;
        }
        _ = CompleteStop(stop, timeout);
        return stop.Task;
    }

    private async Task CompleteStop(TaskCompletionSource<bool> stop, TimeSpan timeout)
    {
        try
        {
            stop.SetResult(await StopCore(timeout).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            stop.SetException(e);
        }
    }

    /// <summary>Stops as <see cref="StopAsync"/> does with the server's <see cref="DuplexServerOptions.StopTimeout"/>.</summary>
    public void Dispose() => StopAsync(_options.Server.StopTimeout).GetAwaiter().GetResult();

    /// <summary>Stops as <see cref="StopAsync"/> does with the server's <see cref="DuplexServerOptions.StopTimeout"/>.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(_options.Server.StopTimeout).ConfigureAwait(false);

    private async Task<bool> StopCore(TimeSpan timeout)
    {
        _stopping = true;
        _wake.Set();
        await _threadEnded.Task.ConfigureAwait(false);
        _watch.Dispose();
        // No client joins from here on: one that is joining sees the service gone.
        _serviceLock.Dispose();
        List<Member> members;
        Task[] leaving;
        lock (_sync)
        {
            members = _clients.Values.ToList();
            _clients.Clear();
            _releasing.AddRange(members);
            leaving = _leaving.ToArray();
        }
        Task<bool>[] stops = members.Select(m => Release(m, timeout)).ToArray();
        bool[] stopped = await Task.WhenAll(stops).ConfigureAwait(false);
        await Task.WhenAll(leaving).ConfigureAwait(false);
        RemoveLeftovers();
        _wake.Dispose();
        return stopped.All(s => s);
    }

    /// <summary>Wakes a waiter from the /dev/shm watch's thread, which may call once more after the wait has ended.</summary>
    private static void Signal(EventWaitHandle wake)
    {
        try
        {
            wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // The waiter is gone; nobody needs waking.
        }
    }

    private FileLock AcquireServiceLock()
    {
        UnixFileMode mode = _options.Server.RequestRing.Permissions;
        long deadline = Environment.TickCount64 + 2000;
        while (true)
        {
            if (_platform.TryAcquireLock(_names.ServicePath, mode) is { } held)
            {
                return held;
            }
            // Held: by a live service, or for a moment by a cleaner (then the recorded owner is dead or absent).
            if (DuplexServiceFile.Check(_platform, _names.ServicePath) is DuplexServiceState.Alive or DuplexServiceState.Unreadable ||
                Environment.TickCount64 >= deadline)
            {
                throw new ReaderAlreadyConnectedException(
                    $"A live duplex service '{Name}' already runs ({_names.ServicePath} is locked by its process). " +
                    "Stop it first, or choose another name.");
            }
            Thread.Sleep(10);
        }
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                try
                {
                    Admit();
                    LetGoOfGoneClients();
                    RemoveLeftovers();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A listing or a look raced with a client or a cleaner: the next round looks again.
                }
                _wake.WaitOne(CheckInterval);
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref _fault, e);
        }
        finally
        {
            _threadEnded.TrySetResult();
        }
    }

    /// <summary>Starts a server for each new join file (or refuses it); forgets refusals whose join file is gone.</summary>
    private void Admit()
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string channel, int pid) in _names.FindJoinFiles())
        {
            present.Add(channel);
            bool known;
            int count;
            lock (_sync)
            {
                known = _clients.ContainsKey(channel);
                count = _clients.Count;
            }
            if (known || _refused.Contains(channel) || _stopping)
            {
                continue;
            }
            if (!_platform.IsAlive(new ProcessIdentity(pid, 0)))
            {
                DuplexServiceCleaner.RemoveJoinFileIfStale(_platform, channel, pid);
                continue;
            }
            if (count >= _options.MaxClients)
            {
                Refuse(channel, $"duplex service '{Name}' serves its maximum of {_options.MaxClients} clients (DuplexServiceOptions.MaxClients). " +
                    "Try again once a client has left, or start the service with a larger MaxClients.");
                continue;
            }
            DuplexServer server;
            try
            {
                server = _loanHandler is null
                    ? new DuplexServer(channel, _handler!, _options.Server)
                    : new DuplexServer(channel, _loanHandler, _options.Server);
            }
            catch (Exception e) when (e is ZeroLaneException or IOException or UnauthorizedAccessException)
            {
                Refuse(channel, $"duplex service '{Name}' could not create this client's request ring: {e.GetType().Name}: {e.Message}");
                continue;
            }
            lock (_sync)
            {
                _clients.Add(channel, new Member(channel, pid, server));
                Interlocked.Increment(ref _clientsJoined);
            }
        }
        _refused.RemoveWhere(channel => !present.Contains(channel));
    }

    private void Refuse(string channel, string reason)
    {
        _refused.Add(channel);
        Interlocked.Increment(ref _clientsRefused);
        DuplexServiceFile.WriteRefusal(DuplexServiceNames.JoinPath(channel), reason);
    }

    private void LetGoOfGoneClients()
    {
        List<Member> members;
        lock (_sync)
        {
            members = _clients.Values.ToList();
        }
        foreach (Member member in members)
        {
            if (member.Server.SessionsEnded == 0 && member.Server.IsRunning && IsClientThere(member))
            {
                continue;
            }
            lock (_sync)
            {
                _clients.Remove(member.Channel);
                _releasing.Add(member);
                _leaving.RemoveAll(t => t.IsCompleted);
                _leaving.Add(Release(member, _options.Server.StopTimeout));
            }
        }
    }

    /// <summary>
    /// True while the client may still use its channel: it is joining (its join file exists and its process lives), or it
    /// holds its response ring. The join file is looked at first: a client creates its response ring before it removes
    /// its join file, so a live client is always seen in one of the two.
    /// </summary>
    private bool IsClientThere(Member member)
    {
        if (FileDescriptor.PathStatus(DuplexServiceNames.JoinPath(member.Channel)) is not null)
        {
            return _platform.IsAlive(new ProcessIdentity(member.Pid, 0));
        }
        string responseLock = Path.Combine(LockDirectory, DuplexNames.Response(member.Channel) + ".lock");
        try
        {
            return FileDescriptor.PathStatus(responseLock) is not null && !FileLock.IsStale(responseLock);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not a lock file we can judge: let the client's server tell when its session ends.
            return true;
        }
    }

    /// <summary>Stops a client's server (removing its request ring), then removes what the client left if it died.</summary>
    private async Task<bool> Release(Member member, TimeSpan timeout)
    {
        bool stopped = await member.Server.StopAsync(timeout).ConfigureAwait(false);
        lock (_sync)
        {
            _releasing.Remove(member);
            _answeredByLeft += member.Server.RequestsAnswered;
        }
        Interlocked.Increment(ref _clientsLeft);
        if (!TryRemoveLeftovers(member))
        {
            lock (_sync)
            {
                _leftovers.Add(member);
            }
        }
        return stopped;
    }

    /// <summary>
    /// Looks again at clients let go whose leftovers could not be removed yet: a client that dies closes its files (and so
    /// frees its locks) a moment before its process is gone, and only a dead owner's files are removed.
    /// </summary>
    private void RemoveLeftovers()
    {
        Member[] pending;
        lock (_sync)
        {
            pending = _leftovers.ToArray();
        }
        foreach (Member member in pending)
        {
            if (TryRemoveLeftovers(member))
            {
                lock (_sync)
                {
                    _leftovers.Remove(member);
                }
            }
        }
    }

    /// <summary>
    /// Removes the response ring and join file of a client let go if its process is dead; true when nothing of them is left
    /// to remove here (removed, never there, or held by a live client that removes them itself).
    /// </summary>
    private bool TryRemoveLeftovers(Member member)
    {
        string response = DuplexNames.Response(member.Channel);
        try
        {
            DuplexServiceCleaner.RemoveRingIfStale(_platform, response, LockDirectory);
            DuplexServiceCleaner.RemoveJoinFileIfStale(_platform, member.Channel, member.Pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ZeroLaneException)
        {
            // Looked at again in the next round.
        }
        bool left = FileDescriptor.PathStatus(DuplexServiceNames.SharedMemoryPath(response)) is not null ||
            FileDescriptor.PathStatus(Path.Combine(LockDirectory, response + ".lock")) is not null ||
            FileDescriptor.PathStatus(DuplexServiceNames.JoinPath(member.Channel)) is not null;
        return !left || _platform.IsAlive(new ProcessIdentity(member.Pid, 0)) && IsClientThere(member);
    }

    private sealed record Member(string Channel, int Pid, DuplexServer Server);
}
