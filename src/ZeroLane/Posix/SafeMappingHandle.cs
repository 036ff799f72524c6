using System.Runtime.InteropServices;

namespace ZeroLane.Posix;

/// <summary>An mmap'ed range; unmapped with munmap when released.</summary>
internal sealed class SafeMappingHandle : SafeHandle
{
    internal SafeMappingHandle(nint address, long length) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>Length of the mapping in bytes.</summary>
    internal long Length { get; }

    public override bool IsInvalid => handle == IntPtr.Zero || handle == Interop.Sys.MAP_FAILED;

    protected override bool ReleaseHandle() => Interop.Sys.MUnmap(handle, (nuint)Length) == 0;
}
