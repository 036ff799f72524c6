using System.Runtime.InteropServices;

namespace ZeroLane.Posix;

/// <summary>An mmap'ed range; unmapped with munmap when released.</summary>
internal sealed unsafe class SafeMappingHandle : SafeHandle
{
    private int _guardSlot = -1;

    internal SafeMappingHandle(nint address, long length) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>Length of the mapping in bytes.</summary>
    internal long Length { get; }

    /// <summary>
    /// The flag <see cref="FaultGuard"/> sets when part of the mapping had to be replaced by zero pages (the file
    /// shrank under it); reads 0 until then, and always for a mapping that is not guarded.
    /// </summary>
    internal int* FaultFlag { get; private set; } = FaultGuard.NeverFaulted;

    /// <summary>Whether the mapping is registered with <see cref="FaultGuard"/>.</summary>
    internal bool IsGuarded => _guardSlot >= 0;

    /// <summary>Whether <see cref="FaultGuard"/> replaced part of the mapping because its file shrank.</summary>
    internal bool HasFaulted => Volatile.Read(ref *FaultFlag) != 0;

    /// <summary>Puts the mapping under <see cref="FaultGuard"/>, so that its file shrinking sets <see cref="FaultFlag"/> instead of faulting the process.</summary>
    internal void Guard(int protection)
    {
        _guardSlot = FaultGuard.Register(handle, Length, protection, out int* faulted);
        FaultFlag = faulted;
    }

    public override bool IsInvalid => handle == IntPtr.Zero || handle == Interop.Sys.MAP_FAILED;

    protected override bool ReleaseHandle()
    {
        FaultGuard.Unregister(_guardSlot);
        return Interop.Sys.MUnmap(handle, (nuint)Length) == 0;
    }
}
