using System.Runtime.InteropServices;

namespace ZeroLane.Posix;

/// <summary>A sem_t* returned by sem_open; closed with sem_close.</summary>
internal sealed class SafeSemaphoreHandle : SafeHandle
{
    public SafeSemaphoreHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    internal SafeSemaphoreHandle(nint semaphore) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(semaphore);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => Interop.Sys.SemClose(handle) == 0;
}
