namespace ZeroLane.Posix;

/// <summary>
/// A platform that hands every call to <see cref="Inner"/> (the real one by default), for tests and fuzz targets that
/// change one answer (which processes are alive, say) and keep the rest real. Override what differs.
/// </summary>
internal abstract class DelegatingIpcPlatform(IIpcPlatform? inner = null) : IIpcPlatform
{
    protected IIpcPlatform Inner { get; } = inner ?? IpcPlatform.Current;

    public virtual ProcessIdentity CurrentProcess => Inner.CurrentProcess;

    public virtual bool IsAlive(ProcessIdentity process) => Inner.IsAlive(process);

    public virtual SharedMemory CreateSharedMemory(string name, long size, UnixFileMode mode) => Inner.CreateSharedMemory(name, size, mode);

    public virtual SharedMemory? OpenSharedMemory(string name, bool writable) => Inner.OpenSharedMemory(name, writable);

    public virtual bool RemoveSharedMemory(string name) => Inner.RemoveSharedMemory(name);

    public virtual NamedSemaphore CreateSemaphore(string name, UnixFileMode mode) => Inner.CreateSemaphore(name, mode);

    public virtual NamedSemaphore? OpenSemaphore(string name) => Inner.OpenSemaphore(name);

    public virtual bool RemoveSemaphore(string name) => Inner.RemoveSemaphore(name);

    public virtual FileLock? TryAcquireLock(string path, UnixFileMode mode) => Inner.TryAcquireLock(path, mode);

    public virtual bool TryRemoveStaleLock(string path) => Inner.TryRemoveStaleLock(path);
}
