namespace ZeroLane.Posix;

/// <summary>
/// A process as recorded in shared memory: its PID plus its start time, so that a PID the kernel has
/// since given to another process is not mistaken for the original.
/// </summary>
/// <param name="Pid">The process ID.</param>
/// <param name="StartTime">Start time in clock ticks after boot (field 22 of /proc/PID/stat); 0 when unknown.</param>
internal readonly record struct ProcessIdentity(int Pid, ulong StartTime);
