using System.Runtime.CompilerServices;
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
/// <item>Frames handed out are tracked by ticket in a slot table. Releasing marks a slot; the sweep then
/// credits every released slot at the head, in ring order, to payload_free_bytes (atomic add) and
/// publishes read_pos and read_count for them. Wrap markers and short tails enter the table as slots that
/// are released at once, so their wasted bytes are credited in ring order too.</item>
/// <item>Publishing read_pos at the oldest unreleased frame, not at the read cursor, keeps peers that
/// compute free space from positions from writing over frames still held here.</item>
/// </list>
/// Reading and releasing take one uncontended lock, so frames may be released from any thread.
/// </remarks>
public sealed partial class RingReader : IDisposable
{
    private readonly IIpcPlatform _platform;
    private readonly BufferNames _names;
    private readonly BufferOptions _options;
    private readonly object _sync = new();
    private FileLock? _lock;
    private SharedMemory? _sharedMemory;
    private MappedRegion _region = null!;
    private NamedSemaphore _writeSemaphore = null!;
    private NamedSemaphore _readSemaphore = null!;
    private readonly long _payloadOffset;
    private readonly long _payloadSize;
    private readonly long _metadataOffset;
    private readonly long _metadataSize;

    // Read cursor: owned by the reading thread, under _sync.
    private long _cursor;
    private ulong _consumedCount;
    private ulong _knownWritten;
    private ulong _expectedSequence = 1;
    private bool _writerSeen;

    // Slot table of items handed out but not yet credited, indexed by ticket & (length - 1).
    private Slot[] _slots = new Slot[64];
    private long _nextTicket;
    private long _headTicket;

    // read_count as this reader last published it, under _sync.
    private ulong _readCount;
    private int _undrainedPosts;

    /// <summary>Frames between drains of sem-w by a reader that does not sleep: its value stays below this.</summary>
    internal const int SemaphoreDrainBatch = 64;

    private long _framesRead;
    private long _bytesRead;
    private DedicatedWaiter<ReadResult>? _asyncWaiter;
    private TimeSpan _asyncTimeout;
    private CancellationToken _asyncToken;
    private volatile bool _disposed;
    private int _activeWaits;

    /// <summary>
    /// Creates the buffer <paramref name="name"/> and becomes its reader. Stale buffers left by dead
    /// readers (of this name and others in the lock directory) are removed first.
    /// </summary>
    /// <exception cref="InvalidBufferNameException">The name is not allowed.</exception>
    /// <exception cref="ReaderAlreadyConnectedException">A live reader already owns a buffer of that name.</exception>
    public RingReader(string name, BufferOptions? options = null)
        : this(name, options ?? new BufferOptions(), IpcPlatform.Current)
    {
    }

    internal RingReader(string name, BufferOptions options, IIpcPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(options);
        _names = BufferNames.Create(name, options.LockDirectory);
        _options = options;
        _platform = platform;
        ValidateOptions(options);
        BufferLayout layout = BufferLayout.ForRequested(options.MetadataSize, options.PayloadSize);
        _metadataOffset = layout.MetadataOffset;
        _metadataSize = layout.MetadataBlockSize;
        _payloadOffset = layout.PayloadOffset;
        _payloadSize = layout.PayloadBlockSize;
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

    /// <summary>Frames read but not yet released.</summary>
    public int FramesHeld
    {
        get
        {
            lock (_sync)
            {
                int held = 0;
                for (long t = _headTicket; t < _nextTicket; t++)
                {
                    if (!_slots[t & (_slots.Length - 1)].Released)
                    {
                        held++;
                    }
                }
                return held;
            }
        }
    }

    /// <summary>True while a writer is connected and alive.</summary>
    public bool IsWriterConnected
    {
        get
        {
            ThrowIfDisposed();
            ProcessIdentity writer = ReadWriterIdentity();
            return writer.Pid != 0 && _platform.IsAlive(writer);
        }
    }

    /// <summary>A snapshot of the buffer's figures: capacity, free bytes, utilization, counts, peers.</summary>
    public BufferStats GetStats()
    {
        lock (_sync)
        {
            ThrowIfDisposed();
            return BufferStats.Read(_names.Name, _region, _platform);
        }
    }

    private static void ValidateOptions(BufferOptions options)
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
        EnsureLockDirectory(_names.LockDirectory);
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
            sharedMemory = _platform.CreateSharedMemory(_names.SharedMemory, layout.TotalSize, _options.Permissions);
            _region = new MappedRegion(sharedMemory.Mapping);
            InitializeOieb(layout);
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

    private bool HasLiveReader()
    {
        using SharedMemory? existing = _platform.OpenSharedMemory(_names.SharedMemory, writable: false);
        if (existing is null || existing.Length < OiebLayout.Size)
        {
            return false;
        }
        using var region = new MappedRegion(existing.Mapping);
        var reader = new ProcessIdentity((int)region.ReadUInt64Acquire(OiebLayout.ReaderPid), region.ReadUInt64Acquire(OiebLayout.ReaderStartTime));
        return reader.Pid != 0 && _platform.IsAlive(reader);
    }

    private static void EnsureLockDirectory(string directory)
    {
        if (FileDescriptor.PathOwnerAndMode(directory) is null)
        {
            // World-writable and sticky like /tmp (1777), so readers of several users can share it while each
            // lock file inside stays owner-only and only its owner can remove it.
            Directory.CreateDirectory(directory);
            if (FileDescriptor.PathOwnerAndMode(directory) is { } created && created.Owner == Interop.Sys.GetEUid())
            {
                Interop.Sys.Chmod(directory, 0b1_111_111_111);
            }
        }
        (uint owner, uint mode) = FileDescriptor.PathOwnerAndMode(directory)
            ?? throw new DirectoryNotFoundException($"The lock directory '{directory}' vanished while it was being created.");
        const uint typeMask = 0xF000, directoryType = 0x4000, symlinkType = 0xA000, otherWrite = 0x2, sticky = 0x200;
        if ((mode & typeMask) == symlinkType)
        {
            throw new UnauthorizedAccessException(
                $"The lock directory '{directory}' is a symbolic link; ZeroLane does not follow links at lock paths, since " +
                "another user could plant one. Remove it or choose another BufferOptions.LockDirectory.");
        }
        if ((mode & typeMask) != directoryType)
        {
            throw new IOException($"The lock directory '{directory}' exists but is not a directory.");
        }
        uint self = Interop.Sys.GetEUid();
        if (owner != self && owner != 0 && (mode & otherWrite) != 0 && (mode & sticky) == 0)
        {
            throw new UnauthorizedAccessException(
                $"The lock directory '{directory}' belongs to another user (uid {owner}) and is world-writable without the sticky bit, " +
                "so any user could remove or replace lock files in it. Remove it (it is recreated safely) or choose another LockDirectory.");
        }
    }

    /// <summary>With the lock held: remove this name's objects left by a dead reader (or refuse a live peer reader).</summary>
    private void RemoveLeftovers()
    {
        using (SharedMemory? existing = _platform.OpenSharedMemory(_names.SharedMemory, writable: false))
        {
            if (existing is not null && existing.Length >= OiebLayout.Size)
            {
                using var region = new MappedRegion(existing.Mapping);
                var reader = new ProcessIdentity((int)region.ReadUInt64Acquire(OiebLayout.ReaderPid), region.ReadUInt64Acquire(OiebLayout.ReaderStartTime));
                if (reader.Pid != 0 && reader != _platform.CurrentProcess && _platform.IsAlive(reader))
                {
                    throw new ReaderAlreadyConnectedException(
                        $"Buffer '{Name}' already exists and its reader (pid {reader.Pid}) is alive, although it holds no lock at " +
                        $"{_names.LockPath} (a peer using another lock directory?). Stop that reader or choose another name.");
                }
            }
        }
        _platform.RemoveSharedMemory(_names.SharedMemory);
        _platform.RemoveSemaphore(_names.WriteSemaphore);
        _platform.RemoveSemaphore(_names.ReadSemaphore);
    }

    private void InitializeOieb(BufferLayout layout)
    {
        // The memory is zero-filled by ftruncate. Fields first, oieb_size last (release): a writer that sees
        // oieb_size == 128 sees a fully initialized block.
        _region.WriteByte(OiebLayout.VersionMajor, OiebLayout.ProtocolMajor);
        _region.WriteByte(OiebLayout.VersionMinor, OiebLayout.ProtocolMinor);
        _region.WriteByte(OiebLayout.VersionPatch, OiebLayout.ProtocolPatch);
        _region.WriteUInt64(OiebLayout.MetadataSize, (ulong)layout.MetadataBlockSize);
        _region.WriteUInt64(OiebLayout.MetadataFreeBytes, (ulong)layout.MetadataBlockSize);
        _region.WriteUInt64(OiebLayout.PayloadSize, (ulong)layout.PayloadBlockSize);
        _region.WriteUInt64(OiebLayout.PayloadFreeBytes, (ulong)layout.PayloadBlockSize);
        ProcessIdentity self = _platform.CurrentProcess;
        _region.WriteUInt64(OiebLayout.ReaderStartTime, self.StartTime);
        _region.WriteUInt64(OiebLayout.ReaderPid, (ulong)self.Pid);
        _region.WriteUInt32Release(OiebLayout.ExtensionFlags, (uint)ReaderFlags.CountsFramesAndReleasesInOrder);
        _region.WriteUInt32Release(OiebLayout.ExtensionMagic, OiebLayout.ExtensionMagicValue);
        // release [OIEB-ready]: pairs with the writer's acquire load of oieb_size in ValidateOieb.
        _region.WriteUInt32Release(OiebLayout.OiebSize, OiebLayout.Size);
    }

    private ProcessIdentity ReadWriterIdentity() =>
        new((int)_region.ReadUInt64Acquire(OiebLayout.WriterPid), _region.ReadUInt64Acquire(OiebLayout.WriterStartTime));

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
        _asyncWaiter?.Dispose();
        WaitForWaitsToLeave(ref _activeWaits, _writeSemaphore);
        lock (_sync)
        {
            // Every step is attempted even if one fails, so nothing is left behind and the lock goes last.
            Attempt(() =>
            {
                _region.WriteUInt64(OiebLayout.ReaderStartTime, 0);
                _region.WriteUInt64Release(OiebLayout.ReaderPid, 0);
                // Wake a writer blocked on space so it sees the reader gone now, not at its next peer check.
                _readSemaphore.Post();
            });
            for (long t = _headTicket; t < _nextTicket; t++)
            {
                _slots[t & (_slots.Length - 1)].Memory?.Invalidate();
            }
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

    /// <summary>Waits (up to 5 s) until no wait is in progress, posting the semaphore to wake stragglers.</summary>
    internal static void WaitForWaitsToLeave(ref int activeWaits, NamedSemaphore semaphore)
    {
        long giveUp = Environment.TickCount64 + 5000;
        while (Volatile.Read(ref activeWaits) > 0 && Environment.TickCount64 < giveUp)
        {
            semaphore.Post();
            Thread.Sleep(1);
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

    private struct Slot
    {
        internal long Ticket;
        internal long DataOffset;
        internal int Length;
        internal bool Released;
        internal uint CountAdvance;
        internal long Credit;
        internal long EndPosition;
        internal MappedRegion.RegionMemoryManager? Memory;
    }
}
