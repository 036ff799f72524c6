using System.Runtime.InteropServices;

namespace ZeroLane;

/// <summary>A sem_t* returned by sem_open (see <see cref="Interop.Sys.SemOpen"/>); closed with sem_close when released.</summary>
internal sealed class SafeSemaphoreHandle : SafeHandle
{
    /// <summary>Used by the interop marshaller, which sets the handle sem_open returned.</summary>
    public SafeSemaphoreHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => Interop.Sys.SemClose(handle) == 0;
}
