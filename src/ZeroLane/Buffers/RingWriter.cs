using System.Runtime.CompilerServices;
using ZeroLane.Ipc;
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
public sealed partial class RingWriter : IFrameSink, ILoanPublisher, IDisposable
{
    private readonly IIpcPlatform _platform;
    private readonly WriterOptions _options;
    private readonly SharedMemory _sharedMemory;
    private readonly MappedRegion _region;
    private readonly Oieb _oieb;
    private readonly LoanTracker _loans;
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
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    /// <exception cref="BufferNotFoundException">No reader has created the buffer (start the reader first).</exception>
    /// <exception cref="ReaderGoneException">The buffer exists but its reader is dead.</exception>
    /// <exception cref="WriterAlreadyConnectedException">Another live writer is connected.</exception>
    /// <exception cref="IncompatibleBufferException">The segment is not a ZeroBuffer v1 buffer.</exception>
    /// <exception cref="BufferCorruptedException">The segment's header holds sizes, positions or counts no reader or writer leaves.</exception>
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
        _asyncWait = new AsyncSemaphoreWait("ZeroLane writer " + name);
        _self = platform.CurrentProcess;
        _sharedMemory = platform.OpenSharedMemory(names.SharedMemory, writable: true) ?? throw Oieb.NotFound(name, "no shared memory of that name exists");
        NamedSemaphore? writeSemaphore = null, readSemaphore = null;
        try
        {
            if (_sharedMemory.Length < OiebLayout.Size)
            {
                throw Oieb.NotFound(name, "its reader is still creating it");
            }
            _region = new MappedRegion(_sharedMemory.Mapping);
            _oieb = new Oieb(_region);
            (_metadataSize, _payloadSize) = _oieb.Validate(name);
            _metadataOffset = OiebLayout.Size;
            _payloadOffset = OiebLayout.Size + _metadataSize;
            _loans = new LoanTracker(_region, _payloadOffset, _payloadSize, this);
            ProcessIdentity reader = _oieb.Reader.Read();
            if (reader.Pid == 0 || !platform.IsAlive(reader))
            {
                throw new ReaderGoneException(
                    $"Buffer '{name}' exists but its reader (pid {reader.Pid}) is gone. Start a reader; it will remove the stale buffer and create a fresh one.");
            }
            writeSemaphore = platform.OpenSemaphore(names.WriteSemaphore) ?? throw Oieb.NotFound(name, $"its semaphore {names.WriteSemaphore} is missing");
            readSemaphore = platform.OpenSemaphore(names.ReadSemaphore) ?? throw Oieb.NotFound(name, $"its semaphore {names.ReadSemaphore} is missing");
            _readerCountsFrames = _oieb.ReaderCountsFrames;

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
            ulong readCount = _region.ReadUInt64Acquire(OiebLayout.PayloadReadCount);
            ulong writtenCount = _region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount);
            if (readCount > writtenCount)
            {
                throw new BufferCorruptedException($"Buffer '{name}' is corrupted: payload_read_count is {readCount}, above payload_written_count " +
                    $"{writtenCount}; a reader cannot finish more items than were written, so another process overwrote one of them. " +
                    "Recreate the buffer.");
            }
            // Claim last: nothing after it can fail, so a refused connection never leaves a claim behind.
            ProcessIdentity holder = _oieb.Writer.Claim(_self, platform);
            if (holder.Pid != 0)
            {
                throw new WriterAlreadyConnectedException(
                    $"Buffer '{name}' already has a live writer (pid {holder.Pid}). A buffer takes one writer at a time; " +
                    "wait for it to disconnect or use another buffer.");
            }
            // A predecessor that died while connected may have reserved space it never published; with a
            // ZeroLane reader the first write waits for the ring to drain and then resets the accounting.
            // writer_state also counts connections (bits 1-63), so a reader can tell a new writer's sequence 1 from a stale frame.
            ulong state = _region.ReadUInt64Acquire(OiebLayout.WriterState);
            ulong connected = (((state >> OiebLayout.WriterConnectionsShift) + 1) << OiebLayout.WriterConnectionsShift) | OiebLayout.WriterStateConnected;
            bool predecessorDied = (_region.ExchangeUInt64(OiebLayout.WriterState, connected) & OiebLayout.WriterStateConnected) != 0;
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

    /// <summary>True when the ring's reader is a ZeroLane reader that advertises every capability in <paramref name="flags"/>.</summary>
    internal bool ReaderAdvertises(ReaderFlags flags)
    {
        ThrowIfDisposed();
        return _oieb.ReaderAdvertises(flags);
    }

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
            return BufferStats.Read(Name, _oieb, _platform);
        }
    }

    private bool IsReaderAlive() => _oieb.Reader.IsHeldByLiveProcess(_platform);

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
        _asyncWait.Dispose();
        ActiveWaits.WaitUntilNone(ref _activeWaits, _readSemaphore);
        _loans.Close();
        Monitor.Enter(_disposeSync);
        try
        {
            if (_oieb.Writer.Pid == (ulong)_self.Pid)
            {
                // Connected state first, while the claim is still ours: a writer that claims after us then finds a clean
                // disconnect, not a predecessor that died.
                _region.WriteUInt64Release(OiebLayout.WriterState, _region.ReadUInt64(OiebLayout.WriterState) & ~OiebLayout.WriterStateConnected);
                _oieb.Writer.TryClear(_self);
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
