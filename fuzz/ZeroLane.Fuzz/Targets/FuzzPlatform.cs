using ZeroLane.Posix;

namespace ZeroLane.Fuzz;

/// <summary>
/// The real platform, but with liveness answered from this process alone, so that a PID the input writes into the OIEB
/// means the same in every run: alive only if it is this process (with its start time, or 0 = unknown). It keeps the
/// shared memory the reader creates, so the target writes the input into the very mapping the reader reads.
/// </summary>
internal sealed class FuzzPlatform : IIpcPlatform
{
    private static readonly IIpcPlatform s_real = IpcPlatform.Current;

    internal SharedMemory? Created { get; private set; }

    public ProcessIdentity CurrentProcess => s_real.CurrentProcess;

    public bool IsAlive(ProcessIdentity process) =>
        process.Pid == CurrentProcess.Pid && (process.StartTime == 0 || process.StartTime == CurrentProcess.StartTime);

    public SharedMemory CreateSharedMemory(string name, long size, UnixFileMode mode) => Created = s_real.CreateSharedMemory(name, size, mode);

    public SharedMemory? OpenSharedMemory(string name, bool writable) => s_real.OpenSharedMemory(name, writable);

    public bool RemoveSharedMemory(string name) => s_real.RemoveSharedMemory(name);

    public NamedSemaphore CreateSemaphore(string name, UnixFileMode mode) => s_real.CreateSemaphore(name, mode);

    public NamedSemaphore? OpenSemaphore(string name) => s_real.OpenSemaphore(name);

    public bool RemoveSemaphore(string name) => s_real.RemoveSemaphore(name);

    public FileLock? TryAcquireLock(string path, UnixFileMode mode) => s_real.TryAcquireLock(path, mode);

    public bool TryRemoveStaleLock(string path) => s_real.TryRemoveStaleLock(path);
}
