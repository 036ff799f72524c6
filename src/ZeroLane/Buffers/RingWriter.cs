using System.Runtime.CompilerServices;
using ZeroLane.Posix;

namespace ZeroLane.Buffers;

/// <summary>
/// The writing end of a ZeroBuffer v1 ring. Connects to a buffer a reader has created; writes frames by
/// copying them in (from a span or a multi-segment sequence) or in place through a <see cref="FrameLoan"/>.
/// </summary>
/// <remarks>
/// Design: the writer owns write_pos and written_count and is single-threaded (one frame at a time). It
/// reserves space from payload_free_bytes only: the oldest uncredited byte lies at
/// <c>write_pos - (payload_size - free)</c> (mod payload_size), because every byte between it and write_pos,
/// wasted tails included, is counted as used until the reader credits it in ring order. A frame is never
/// split at the end of the block and never leaves a tail of 1 to 15 bytes there (no room for a wrap marker).
/// When the reader is a ZeroLane reader (it says so in the OIEB extension), the writer may publish a wrap
/// marker on its own, which resolves the one layout no amount of waiting can: a drained ring whose frame
/// fits neither before the end nor before the marker; and after a previous writer died, the first write
/// waits for the ring to drain and then resets write_pos and payload_free_bytes exactly, undoing whatever
/// the dead writer had reserved and not published.
/// </remarks>
public sealed partial class RingWriter : IDisposable
{
    private readonly IIpcPlatform _platform;
    private readonly WriterOptions _options;
    private readonly SharedMemory _sharedMemory;
    private readonly MappedRegion _region;
    private readonly NamedSemaphore _writeSemaphore;
    private readonly NamedSemaphore _readSemaphore;
    private readonly ProcessIdentity _self;
    private readonly long _payloadOffset;
    private readonly long _payloadSize;
    private readonly long _metadataOffset;
    private readonly long _metadataSize;
    private readonly bool _readerCountsFrames;
    private bool _needsResync;

    private long _writePosition;
    private ulong _writtenCount;
    private long _knownFree;
    private long _nextReaderCheck;
    private ulong _sequence = 1;
    private long _framesWritten;
    private long _bytesWritten;
    private volatile bool _disposed;
    private int _activeWaits;
    private readonly object _disposeSync = new();

    /// <summary>Connects to the buffer <paramref name="name"/> as its writer.</summary>
    /// <exception cref="InvalidBufferNameException">The name is not allowed.</exception>
    /// <exception cref="BufferNotFoundException">No reader has created the buffer (start the reader first).</exception>
    /// <exception cref="ReaderGoneException">The buffer exists but its reader is dead.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    /// <exception cref="IncompatibleBufferException">The segment is not a ZeroBuffer v1 buffer.</exception>
    public RingWriter(string name, WriterOptions? options = null)
        : this(name, options ?? new WriterOptions(), IpcPlatform.Current)
    {
    }

    internal RingWriter(string name, WriterOptions options, IIpcPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(options);
        BufferNames names = BufferNames.Create(name);
        Name = name;
        _options = options;
        _platform = platform;
        _self = platform.CurrentProcess;
        _sharedMemory = platform.OpenSharedMemory(names.SharedMemory, writable: true) ?? throw NotFound(name, "no shared memory of that name exists");
        NamedSemaphore? writeSemaphore = null, readSemaphore = null;
        try
        {
            if (_sharedMemory.Length < OiebLayout.Size)
            {
                throw NotFound(name, "its reader is still creating it");
            }
            _region = new MappedRegion(_sharedMemory.Mapping);
            (_metadataSize, _payloadSize) = ValidateOieb(_region, name);
            _metadataOffset = OiebLayout.Size;
            _payloadOffset = OiebLayout.Size + _metadataSize;
            var reader = new ProcessIdentity((int)_region.ReadUInt64Acquire(OiebLayout.ReaderPid), _region.ReadUInt64Acquire(OiebLayout.ReaderStartTime));
            if (reader.Pid == 0 || !platform.IsAlive(reader))
            {
                throw new ReaderGoneException(
                    $"Buffer '{name}' exists but its reader (pid {reader.Pid}) is gone. Start a reader; it will remove the stale buffer and create a fresh one.");
            }
            writeSemaphore = platform.OpenSemaphore(names.WriteSemaphore) ?? throw NotFound(name, $"its semaphore {names.WriteSemaphore} is missing");
            readSemaphore = platform.OpenSemaphore(names.ReadSemaphore) ?? throw NotFound(name, $"its semaphore {names.ReadSemaphore} is missing");
            _readerCountsFrames = _region.ReadUInt32Acquire(OiebLayout.ExtensionMagic) == OiebLayout.ExtensionMagicValue &&
                ((ReaderFlags)_region.ReadUInt32Acquire(OiebLayout.ExtensionFlags)).HasFlag(ReaderFlags.CountsFramesAndReleasesInOrder);

            _writePosition = (long)_region.ReadUInt64Acquire(OiebLayout.PayloadWritePos);
            if (_writePosition == _payloadSize)
            {
                // The reference C++ writer does not wrap write_pos after a frame that ends exactly at the end.
                _writePosition = 0;
            }
            if ((ulong)_writePosition >= (ulong)_payloadSize)
            {
                throw new BufferCorruptedException($"Buffer '{name}' is corrupted: write_pos {_writePosition} lies outside the {_payloadSize}-byte payload block.");
            }
            // Claim last: nothing after it can fail, so a refused connection never leaves a claim behind.
            ClaimWriterSlot(name);
            // A predecessor that died while connected may have reserved space it never published; with a
            // ZeroLane reader the first write waits for the ring to drain and then resets the accounting.
            bool predecessorDied = _region.ExchangeUInt64(OiebLayout.WriterState, OiebLayout.WriterStateConnected) == OiebLayout.WriterStateConnected;
            _needsResync = _readerCountsFrames && predecessorDied;
            // _knownFree starts at 0: the first placement reads (and validates) the shared free bytes.
            _writtenCount = _region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount);
        }
        catch
        {
            writeSemaphore?.Dispose();
            readSemaphore?.Dispose();
            _region?.Dispose();
            _sharedMemory.Dispose();
            throw;
        }
        _writeSemaphore = writeSemaphore;
        _readSemaphore = readSemaphore;
        RingMetrics.Register(this);
    }

    /// <summary>The buffer's name.</summary>
    public string Name { get; }

    /// <summary>Size of the payload block in bytes.</summary>
    public long PayloadCapacity => _payloadSize;

    /// <summary>Size of the metadata block in bytes (0 if there is none).</summary>
    public long MetadataCapacity => _metadataSize;

    /// <summary>The largest frame this buffer accepts: the payload block less one 16-byte header (and at most 2 GiB - 1).</summary>
    public int MaxFrameLength => (int)Math.Min(int.MaxValue, _payloadSize - FrameHeaderLayout.Size);

    /// <summary>Frames written by this writer.</summary>
    public long FramesWritten => Volatile.Read(ref _framesWritten);

    /// <summary>Payload bytes written by this writer.</summary>
    public long BytesWritten => Volatile.Read(ref _bytesWritten);

    /// <summary>True while the buffer's reader is alive.</summary>
    public bool IsReaderConnected
    {
        get
        {
            ThrowIfDisposed();
            return IsReaderAlive();
        }
    }

    /// <summary>A snapshot of the buffer's figures: capacity, free bytes, utilization, counts, peers.</summary>
    public BufferStats GetStats()
    {
        lock (_disposeSync)
        {
            ThrowIfDisposed();
            return BufferStats.Read(Name, _region, _platform);
        }
    }

    /// <summary>Checks an OIEB and returns the block sizes.</summary>
    internal static (long MetadataSize, long PayloadSize) ValidateOieb(MappedRegion region, string name)
    {
        // acquire [OIEB-ready]: pairs with the reader's release store of oieb_size; every other field is set.
        uint oiebSize = region.ReadUInt32Acquire(OiebLayout.OiebSize);
        if (oiebSize == 0)
        {
            throw NotFound(name, "its reader is still creating it");
        }
        if (oiebSize != OiebLayout.Size)
        {
            throw new IncompatibleBufferException(
                $"Buffer '{name}' has oieb_size {oiebSize}; ZeroBuffer v1 requires 128. It was written by an incompatible implementation or is corrupted.");
        }
        byte major = region.ReadByte(OiebLayout.VersionMajor);
        if (major != OiebLayout.ProtocolMajor)
        {
            throw new IncompatibleBufferException(
                $"Buffer '{name}' uses protocol version {major}.{region.ReadByte(OiebLayout.VersionMinor)}.{region.ReadByte(OiebLayout.VersionPatch)}; " +
                "ZeroLane speaks major version 1 only.");
        }
        ulong metadataSize = region.ReadUInt64(OiebLayout.MetadataSize);
        ulong payloadSize = region.ReadUInt64(OiebLayout.PayloadSize);
        if (payloadSize <= FrameHeaderLayout.Size || metadataSize > (ulong)region.Length || payloadSize > (ulong)region.Length ||
            OiebLayout.Size + metadataSize + payloadSize > (ulong)region.Length)
        {
            throw new BufferCorruptedException(
                $"Buffer '{name}' is corrupted: metadata_size {metadataSize} and payload_size {payloadSize} do not fit its {region.Length}-byte segment.");
        }
        return ((long)metadataSize, (long)payloadSize);
    }

    private void ClaimWriterSlot(string name)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            ulong current = _region.ReadUInt64Acquire(OiebLayout.WriterPid);
            if (current != 0)
            {
                var existing = new ProcessIdentity((int)current, _region.ReadUInt64Acquire(OiebLayout.WriterStartTime));
                if (_platform.IsAlive(existing))
                {
                    throw new WriterAlreadyConnectedException(
                        $"Buffer '{name}' already has a live writer (pid {existing.Pid}). A buffer takes one writer at a time; " +
                        "wait for it to disconnect or use another buffer.");
                }
                // A dead writer's claim: clear its PID, then its start time only if nobody has stored a newer one.
                if (_region.CompareAndSetUInt64(OiebLayout.WriterPid, current, 0))
                {
                    _region.CompareAndSetUInt64(OiebLayout.WriterStartTime, existing.StartTime, 0);
                }
                continue;
            }
            _region.WriteUInt64(OiebLayout.WriterStartTime, 0);
            if (_region.CompareAndSetUInt64(OiebLayout.WriterPid, 0, (ulong)_self.Pid))
            {
                _region.WriteUInt64Release(OiebLayout.WriterStartTime, _self.StartTime);
                return;
            }
        }
        throw new WriterAlreadyConnectedException($"Buffer '{name}': other writers keep claiming it; could not connect.");
    }

    private static BufferNotFoundException NotFound(string name, string why) =>
        new($"Buffer '{name}' was not found: {why}. A reader creates the buffer and the writer connects to it, so start the reader first.");

    private bool IsReaderAlive()
    {
        ulong pid = _region.ReadUInt64Acquire(OiebLayout.ReaderPid);
        return pid != 0 && _platform.IsAlive(new ProcessIdentity((int)pid, _region.ReadUInt64Acquire(OiebLayout.ReaderStartTime)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(nameof(RingWriter));
        }
    }

    /// <summary>Disconnects: abandons an open loan, clears writer_pid, and unmaps. The reader keeps the buffer.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        RingMetrics.Unregister(this);
        // Wake every wait (sync ones on other threads too) and let it leave before anything is unmapped.
        _readSemaphore.Post();
        _asyncWaiter?.Dispose();
        RingReader.WaitForWaitsToLeave(ref _activeWaits, _readSemaphore);
        _loanOpen = false;
        Monitor.Enter(_disposeSync);
        try
        {
            if (_region.CompareAndSetUInt64(OiebLayout.WriterPid, (ulong)_self.Pid, 0))
            {
                _region.WriteUInt64Release(OiebLayout.WriterState, 0);
                _region.CompareAndSetUInt64(OiebLayout.WriterStartTime, _self.StartTime, 0);
            }
            // Wake a reader waiting for frames so it sees the disconnect now.
            _writeSemaphore.Post();
        }
        finally
        {
            _region.Dispose();
            _sharedMemory.Dispose();
            _writeSemaphore.Dispose();
            _readSemaphore.Dispose();
            Monitor.Exit(_disposeSync);
        }
    }
}
