namespace ZeroLane.Posix;

/// <summary>
/// The operating-system services the shared-memory transports need. They talk only to this interface, so another
/// platform (macOS, Windows) can be added without touching them; <see cref="IpcPlatform.Current"/>
/// picks the implementation.
/// </summary>
internal interface IIpcPlatform
{
    /// <summary>Creates a zero-filled shared memory object; throws if the name exists.</summary>
    SharedMemory CreateSharedMemory(string name, long size, UnixFileMode mode);

    /// <summary>Opens an existing shared memory object, or returns null if there is none.</summary>
    SharedMemory? OpenSharedMemory(string name, bool writable);

    /// <summary>Removes a shared memory name; false if absent.</summary>
    bool RemoveSharedMemory(string name);

    /// <summary>Creates a named semaphore with value 0; throws if the name exists.</summary>
    NamedSemaphore CreateSemaphore(string name, UnixFileMode mode);

    /// <summary>Opens an existing named semaphore, or returns null if there is none.</summary>
    NamedSemaphore? OpenSemaphore(string name);

    /// <summary>Removes a semaphore name; false if absent.</summary>
    bool RemoveSemaphore(string name);

    /// <summary>Takes the exclusive lock at the path, or returns null if a live process holds it.</summary>
    FileLock? TryAcquireLock(string path, UnixFileMode mode);

    /// <summary>Removes a lock file that no process holds; false if held or absent.</summary>
    bool TryRemoveStaleLock(string path);

    /// <summary>This process, as it is recorded in shared memory.</summary>
    ProcessIdentity CurrentProcess { get; }

    /// <summary>True if the recorded process still runs (and is the same process).</summary>
    bool IsAlive(ProcessIdentity process);
}

/// <summary>Chooses the <see cref="IIpcPlatform"/> for the running operating system.</summary>
internal static class IpcPlatform
{
    private static IIpcPlatform? s_current;

    internal static IIpcPlatform Current => s_current ??= OperatingSystem.IsLinux()
        ? new LinuxIpcPlatform()
        : throw new PlatformNotSupportedException(
            "ZeroLane's shared-memory transports run on Linux only (POSIX shared memory, named semaphores and flock).");
}

/// <summary>Linux: POSIX shared memory under /dev/shm, glibc named semaphores, flock lock files, /proc start times.</summary>
internal sealed class LinuxIpcPlatform : IIpcPlatform
{
    public SharedMemory CreateSharedMemory(string name, long size, UnixFileMode mode) => SharedMemory.CreateExclusive(name, size, mode);

    public SharedMemory? OpenSharedMemory(string name, bool writable) => SharedMemory.TryOpen(name, writable);

    public bool RemoveSharedMemory(string name) => SharedMemory.Unlink(name);

    public NamedSemaphore CreateSemaphore(string name, UnixFileMode mode) => NamedSemaphore.CreateExclusive(name, mode);

    public NamedSemaphore? OpenSemaphore(string name) => NamedSemaphore.TryOpen(name);

    public bool RemoveSemaphore(string name) => NamedSemaphore.Unlink(name);

    public FileLock? TryAcquireLock(string path, UnixFileMode mode) => FileLock.TryAcquire(path, mode);

    public bool TryRemoveStaleLock(string path) => FileLock.TryRemoveStale(path);

    public ProcessIdentity CurrentProcess => ProcessLiveness.Current;

    public bool IsAlive(ProcessIdentity process) => ProcessLiveness.IsAlive(process);
}
