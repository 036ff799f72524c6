using System.Runtime.CompilerServices;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Buffers;

/// <summary>
/// The reading end of a ZeroBuffer v1 ring. The reader creates and owns the buffer: its shared memory,
/// both semaphores and the lock file, and removes them when disposed. Frames are read in place.
/// </summary>
/// <remarks>
/// Design: who owns what.
/// <list type="bullet">
/// <item>The writer owns write_pos and written_count; it publishes a frame by incrementing written_count
/// (release) after the header and bytes are written, then posts sem-w once.</item>
/// <item>This reader finds frames by comparing written_count (acquire) with the number of items it has
/// consumed, so the semaphore is only a wake-up hint and may run ahead or behind without harm.</item>
/// <item>Frames handed out are tracked by ticket in a <see cref="CreditLedger"/>. Releasing marks a ticket; every
/// released ticket at the head is then credited, in ring order, to payload_free_bytes (atomic add), and read_pos and
/// read_count are published for them. Wrap markers and short tails enter the ledger already released, so their
/// wasted bytes are credited in ring order too.</item>
/// <item>Publishing read_pos at the oldest unreleased frame, not at the read cursor, keeps peers that
/// compute free space from positions from writing over frames still held here.</item>
/// </list>
/// Reading and releasing take the ledger's one uncontended lock, so frames may be released from any thread.
/// </remarks>
public sealed partial class RingReader : IFrameSource, ICreditSink, IDisposable
{
    private readonly IIpcPlatform _platform;
    private readonly BufferNames _names;
    private readonly ReaderOptions _options;
    private FileLock? _lock;
    private SharedMemory? _sharedMemory;
    private MappedRegion _region = null!;
    private Oieb _oieb;
    private CreditLedger _ledger = null!;
    private NamedSemaphore _writeSemaphore = null!;
    private NamedSemaphore _readSemaphore = null!;
    private readonly long _payloadOffset;
    private readonly long _payloadSize;
    private readonly long _metadataOffset;
    private readonly long _metadataSize;

    // Read cursor: owned by the reading thread, under the ledger's lock.
    private long _cursor;
    private ulong _consumedCount;
    private ulong _knownWritten;
    private ulong _expectedSequence = 1;
    private bool _writerSeen;
    // ZeroLane writer connections counted when this reader last ended a writer session: a higher count while no writer
    // is connected means a writer came and went unseen (see WriterSessionOver).
    private ulong _connectionsEnded;

    // Counter checks (see TryTakeFrame), under the ledger's lock.
    private readonly ulong _maxUnreadItems;
    // Short tails passed without counting an item (the C++ convention) while a peer that counts one (the Python
    // convention) would leave one phantom item per tail in written_count: how many such phantoms may still be pending.
    private ulong _uncountedWraps;
    // Sequence runs (a writer's frames from its sequence 1) taken so far, the writer identity sampled when the current
    // run started (Pid 0 = not attributable), and whether the reader has seen the writer change since.
    private ulong _runsTaken;
    private ProcessIdentity _runWriter;
    private bool _writerChangeSeen;
    // Corruption found while crediting (a release is no place to throw it): the next read throws it.
    private string? _corruption;

    // read_count as this reader last published it, under the ledger's lock.
    private ulong _readCount;
    private int _undrainedPosts;

    /// <summary>Frames between drains of sem-w by a reader that does not sleep: its value stays below this.</summary>
    internal const int SemaphoreDrainBatch = 64;

    private long _framesRead;
    private long _bytesRead;
    private readonly AsyncSemaphoreWait _asyncWait;
    private int _asyncBusy;
    private volatile bool _disposed;
    private int _activeWaits;

    /// <summary>
    /// Creates the buffer <paramref name="name"/> and becomes its reader. Stale buffers left by dead
    /// readers (of this name and others in the lock directory) are removed first.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live reader already owns a buffer of that name.</exception>
    public RingReader(string name, ReaderOptions? options = null)
        : this(name, options ?? new ReaderOptions(), IpcPlatform.Current)
    {
    }

    internal RingReader(string name, ReaderOptions options, IIpcPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(options);
        _names = BufferNames.Create(name, options.LockDirectory);
        _options = options;
        _platform = platform;
        _asyncWait = new AsyncSemaphoreWait("ZeroLane reader " + name);
        ValidateOptions(options);
        BufferLayout layout = BufferLayout.ForRequested(options.MetadataSize, options.PayloadSize);
        _metadataOffset = layout.MetadataOffset;
        _metadataSize = layout.MetadataBlockSize;
        _payloadOffset = layout.PayloadOffset;
        _payloadSize = layout.PayloadBlockSize;
        _maxUnreadItems = (ulong)_payloadSize / FrameHeaderLayout.Size;
        Create(layout);
        RingMetrics.Register(this);
    }

    /// <summary>The buffer's name.</summary>
    public string Name => _names.Name;

    /// <summary>Size of the payload block in bytes.</summary>
    public long PayloadCapacity => _payloadSize;

    /// <summary>Size of the metadata block in bytes (0 if there is none).</summary>
    public long MetadataCapacity => _metadataSize;

    /// <summary>Frames read by this reader.</summary>
    public long FramesRead => Volatile.Read(ref _framesRead);

    /// <summary>Payload bytes read by this reader.</summary>
    public long BytesRead => Volatile.Read(ref _bytesRead);

    /// <summary>Asynchronous waits started so far (a test's signal that a read is waiting).</summary>
    internal long AsyncWaitsStarted => _asyncWait.WaitsStarted;

    /// <summary>Frames read but not yet released.</summary>
    public int FramesHeld => _ledger.HeldCount;

    /// <summary>See <see cref="CreditLedger.DeferReleases"/>: releases publish their space only at <see cref="PublishDeferredReleases"/>.</summary>
    internal void DeferReleases() => _ledger.DeferReleases();

    /// <summary>Publishes the space of releases kept back since <see cref="DeferReleases"/>.</summary>
    internal void PublishDeferredReleases() => _ledger.PublishDeferred();

    /// <summary>True while a writer is connected and alive.</summary>
    public bool IsWriterConnected
    {
        get
        {
            ThrowIfDisposed();
            return _oieb.Writer.IsHeldByLiveProcess(_platform);
        }
    }

    /// <summary>A snapshot of the buffer's figures: capacity, free bytes, utilization, counts, peers.</summary>
    public BufferStats GetStats()
    {
        lock (_ledger.Sync)
        {
            ThrowIfDisposed();
            return BufferStats.Read(_names.Name, _oieb, _platform);
        }
    }

    /// <summary>
    /// Checks, without creating anything, that a reader could be made with <paramref name="name"/> and
    /// <paramref name="options"/>: for a tool that sets up something else first (a connection, say) and creates the buffer
    /// last, so that a typing error is reported before the wait rather than after it.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public static void Validate(string name, ReaderOptions? options = null)
    {
        options ??= new ReaderOptions();
        _ = BufferNames.Create(name, options.LockDirectory);
        ValidateOptions(options);
    }

    private static void ValidateOptions(ReaderOptions options)
    {
        if (options.PayloadSize < BufferLayout.Alignment)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PayloadSize,
                $"PayloadSize must be at least {BufferLayout.Alignment} bytes (the smallest block that holds a header and one byte).");
        }
        if (options.MetadataSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MetadataSize, "MetadataSize must be 0 (no metadata) or more.");
        }
        const long limit = 1L << 46;
        if (options.PayloadSize > limit || options.MetadataSize > limit)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "PayloadSize and MetadataSize must each be below 64 TiB.");
        }
        if (options.PeerCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PeerCheckInterval, "PeerCheckInterval must be positive.");
        }
    }

    private void Create(BufferLayout layout)
    {
        LockDirectory.EnsureSafe(_names.LockDirectory);
        StaleBuffers.RemoveAll(_platform, _names.LockDirectory, except: _names.Name);
        _lock = AcquireLock();
        NamedSemaphore? writeSemaphore = null, readSemaphore = null;
        SharedMemory? sharedMemory = null;
        try
        {
            RemoveLeftovers();
            // Semaphores before memory: a writer that finds the memory also finds the semaphores.
            writeSemaphore = _platform.CreateSemaphore(_names.WriteSemaphore, _options.Permissions);
            readSemaphore = _platform.CreateSemaphore(_names.ReadSemaphore, _options.Permissions);
            try
            {
                sharedMemory = _platform.CreateSharedMemory(_names.SharedMemory, layout.TotalSize, _options.Permissions);
            }
            catch (IOException noRoom) when (noRoom.HResult == SharedMemory.NoRoomHResult)
            {
                throw new IOException(noRoom.Message + " Buffers left behind by dead readers take room there too: " +
                    "BufferInspector.Clean (or 'zerolane clean') removes them.", noRoom.HResult);
            }
            _region = new MappedRegion(sharedMemory.Mapping);
            _oieb = new Oieb(_region);
            _ledger = new CreditLedger(_region, this);
            _oieb.Initialize(layout, _platform.CurrentProcess, _options.AdvertisedFlags);
        }
        catch
        {
            _region?.Dispose();
            sharedMemory?.Dispose();
            writeSemaphore?.Dispose();
            readSemaphore?.Dispose();
            if (sharedMemory is not null)
            {
                _platform.RemoveSharedMemory(_names.SharedMemory);
            }
            if (writeSemaphore is not null)
            {
                _platform.RemoveSemaphore(_names.WriteSemaphore);
            }
            if (readSemaphore is not null)
            {
                _platform.RemoveSemaphore(_names.ReadSemaphore);
            }
            _lock.Dispose();
            throw;
        }
        _sharedMemory = sharedMemory;
        _writeSemaphore = writeSemaphore;
        _readSemaphore = readSemaphore;
    }

    /// <summary>
    /// Takes the buffer's lock. A held lock means a live reader, or a cleaner that holds it for a moment
    /// while it checks the name: when no live reader is recorded in the segment, try again for a while
    /// before saying the buffer is taken.
    /// </summary>
    private FileLock AcquireLock()
    {
        long giveUp = Environment.TickCount64 + 2000;
        while (true)
        {
            FileLock? acquired = _platform.TryAcquireLock(_names.LockPath, _options.Permissions);
            if (acquired is not null)
            {
                return acquired;
            }
            if (Environment.TickCount64 >= giveUp || HasLiveReader())
            {
                throw new ReaderAlreadyConnectedException(
                    $"Buffer '{Name}' already has a live reader (it holds the lock {_names.LockPath}). A buffer has one reader; " +
                    "stop that reader or choose another name.");
            }
            Thread.Sleep(5);
        }
    }

    private bool HasLiveReader() =>
        Oieb.PeekReader(_platform, _names.SharedMemory) is { Pid: not 0 } reader && _platform.IsAlive(reader);

    /// <summary>With the lock held: remove this name's objects left by a dead reader (or refuse a live peer reader).</summary>
    private void RemoveLeftovers()
    {
        if (Oieb.PeekReader(_platform, _names.SharedMemory) is { Pid: not 0 } reader && reader != _platform.CurrentProcess && _platform.IsAlive(reader))
        {
            throw new ReaderAlreadyConnectedException(
                $"Buffer '{Name}' already exists and its reader (pid {reader.Pid}) is alive, although it holds no lock at " +
                $"{_names.LockPath} (a peer using another lock directory?). Stop that reader or choose another name.");
        }
        _platform.RemoveSharedMemory(_names.SharedMemory);
        _platform.RemoveSemaphore(_names.WriteSemaphore);
        _platform.RemoveSemaphore(_names.ReadSemaphore);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(RingReader));
        }
    }

    /// <summary>
    /// Removes the buffer: its shared memory, semaphores and lock file. A connected writer sees the reader
    /// gone. Frames still held become invalid.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        RingMetrics.Unregister(this);
        // Wake every wait (sync ones on other threads too) and let it leave before anything is unmapped.
        _writeSemaphore.Post();
        _asyncWait.Dispose();
        ActiveWaits.WaitUntilNone(ref _activeWaits, _writeSemaphore);
        _ledger.Close();
        lock (_ledger.Sync)
        {
            // Every step is attempted even if one fails, so nothing is left behind and the lock goes last.
            Attempt(() =>
            {
                _oieb.Reader.Vacate();
                // Wake a writer blocked on space so it sees the reader gone now, not at its next peer check.
                _readSemaphore.Post();
            });
            Exception? failure = Attempt(() => _platform.RemoveSharedMemory(_names.SharedMemory));
            Exception? failure2 = Attempt(() => _platform.RemoveSemaphore(_names.WriteSemaphore));
            Exception? failure3 = Attempt(() => _platform.RemoveSemaphore(_names.ReadSemaphore));
            failure ??= failure2 ?? failure3;
            _region.Dispose();
            _sharedMemory?.Dispose();
            _writeSemaphore.Dispose();
            _readSemaphore.Dispose();
            _lock?.Dispose();
            if (failure is not null)
            {
                throw new IOException($"Buffer '{Name}' was closed, but removing its objects failed: {failure.Message}", failure);
            }
        }
    }

    private static Exception? Attempt(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return exception;
        }
    }
}
