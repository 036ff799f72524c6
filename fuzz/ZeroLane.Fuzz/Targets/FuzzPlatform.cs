using ZeroLane.Posix;

namespace ZeroLane.Fuzz;

/// <summary>
/// The real platform, but with liveness answered from this process alone, so that a PID the input writes into the OIEB
/// means the same in every run: alive only if it is this process (with its start time, or 0 = unknown). It keeps the
/// shared memory the reader creates, so the target writes the input into the very mapping the reader reads.
/// </summary>
internal sealed class FuzzPlatform : DelegatingIpcPlatform
{
    internal SharedMemory? Created { get; private set; }

    public override bool IsAlive(ProcessIdentity process) =>
        process.Pid == CurrentProcess.Pid && (process.StartTime == 0 || process.StartTime == CurrentProcess.StartTime);

    public override SharedMemory CreateSharedMemory(string name, long size, UnixFileMode mode) => Created = Inner.CreateSharedMemory(name, size, mode);
}
