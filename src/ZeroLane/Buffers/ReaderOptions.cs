namespace ZeroLane.Buffers;

/// <summary>How a reader creates its buffer (the reader creates and owns it).</summary>
public sealed record ReaderOptions
{
    /// <summary>Size of the metadata block in bytes (rounded up to 64); 0 means no metadata. Default 4 KiB.</summary>
    public long MetadataSize { get; init; } = 4096;

    /// <summary>Size of the payload block in bytes (rounded up to 64). Default 16 MiB.</summary>
    public long PayloadSize { get; init; } = 16L << 20;

    /// <summary>How the reader waits for frames. Default <see cref="WaitStrategy.SpinThenBlock"/>.</summary>
    public WaitStrategy WaitStrategy { get; init; } = WaitStrategy.SpinThenBlock;

    /// <summary>
    /// Permissions of the shared memory, semaphores and lock file. Default owner read/write (0600); widen
    /// (for example to 0660) only when a writer of another user must connect.
    /// </summary>
    public UnixFileMode Permissions { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Directory of the lock files. Default <c>/tmp/zerobuffer</c>, as the C++ and Python peers use.</summary>
    public string LockDirectory { get; init; } = BufferNames.DefaultLockDirectory;

    /// <summary>How often a waiting reader checks whether the writer still lives: the dead-writer detection time. Default 100 ms.</summary>
    public TimeSpan PeerCheckInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Capabilities beyond the ring's own that the creating reader advertises in the OIEB (duplex channels).</summary>
    internal ReaderFlags AdvertisedFlags { get; init; }
}
