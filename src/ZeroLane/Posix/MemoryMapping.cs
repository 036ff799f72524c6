using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Posix;

/// <summary>How a <see cref="MemoryMapping"/> maps its file.</summary>
internal enum MappingAccess
{
    /// <summary>PROT_READ, MAP_SHARED.</summary>
    ReadOnly,

    /// <summary>PROT_READ | PROT_WRITE, MAP_SHARED: writes reach the file and every other mapping of it.</summary>
    ReadWrite,

    /// <summary>PROT_READ | PROT_WRITE, MAP_PRIVATE: writes stay in this mapping.</summary>
    CopyOnWrite,
}

/// <summary>
/// A file (a regular file, or a shared memory object) mapped into this process: the one mmap wrapper, used by rings,
/// arrays and every later shared-memory structure. Unmapped with munmap when released.
/// </summary>
/// <remarks>
/// Design: every mapping is registered with the <see cref="FaultGuard"/>, so that pages its file loses (another process
/// truncated it, or its filesystem had no room for a page of a sparse file) read as zeros and set
/// <see cref="FaultFlag"/> instead of killing the process with SIGBUS; the users of the mapping check the flag. This is a
/// mapped-memory type: it reads the flag through a pointer.
/// </remarks>
internal sealed unsafe class MemoryMapping : SafeHandle
{
    private int _guardSlot = -1;

    private MemoryMapping(nint address, long length) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>A mapping of nothing (for an object that exists but has no size yet).</summary>
    internal static MemoryMapping Empty() => new(IntPtr.Zero, 0);

    /// <summary>Length of the mapping in bytes.</summary>
    internal long Length { get; }

    /// <summary>The address of the flag <see cref="FaultGuard"/> sets when it had to replace pages of the mapping; reads 0 until then.</summary>
    internal nint FaultFlag { get; private set; } = FaultGuard.NeverFaulted;

    /// <summary>Whether the mapping is registered with <see cref="FaultGuard"/>.</summary>
    internal bool IsGuarded => _guardSlot >= 0;

    /// <summary>Whether <see cref="FaultGuard"/> replaced part of the mapping (its file shrank, or had no room for a page).</summary>
    internal bool HasFaulted => Volatile.Read(ref *(int*)FaultFlag) != 0;

    /// <summary>Maps the first <paramref name="length"/> bytes of <paramref name="file"/> and guards the mapping.</summary>
    /// <param name="file">An open descriptor; it may be closed once this returns (the mapping keeps the pages).</param>
    /// <param name="length">Bytes to map, from offset 0; more than 0.</param>
    /// <param name="access">Read-only, shared read-write, or private copy-on-write.</param>
    /// <param name="what">The file's path or name, for error messages.</param>
    internal static MemoryMapping Map(SafeFileHandle file, long length, MappingAccess access, string what)
    {
        (int protection, int flags) = access switch
        {
            MappingAccess.ReadOnly => (Interop.Sys.PROT_READ, Interop.Sys.MAP_SHARED),
            MappingAccess.ReadWrite => (Interop.Sys.PROT_READ | Interop.Sys.PROT_WRITE, Interop.Sys.MAP_SHARED),
            MappingAccess.CopyOnWrite => (Interop.Sys.PROT_READ | Interop.Sys.PROT_WRITE, Interop.Sys.MAP_PRIVATE),
            _ => throw new ArgumentOutOfRangeException(nameof(access)),
        };
        nint address = Interop.Sys.MMap(0, (nuint)length, protection, flags, file, 0);
        if (address == Interop.Sys.MAP_FAILED)
        {
            throw PosixError.Last("mmap", what);
        }
        var mapping = new MemoryMapping(address, length);
        mapping._guardSlot = FaultGuard.Register(address, length, protection, out nint faultFlag);
        mapping.FaultFlag = faultFlag;
        return mapping;
    }

    /// <summary>Writes the changed pages of a shared mapping back to its file (msync, synchronous).</summary>
    internal void Flush(string what)
    {
        if (Length > 0 && Interop.Sys.MSync(handle, (nuint)Length, Interop.Sys.MS_SYNC) != 0)
        {
            throw PosixError.Last("msync", what);
        }
    }

    public override bool IsInvalid => handle == IntPtr.Zero || handle == Interop.Sys.MAP_FAILED;

    protected override bool ReleaseHandle()
    {
        FaultGuard.Unregister(_guardSlot);
        return Interop.Sys.MUnmap(handle, (nuint)Length) == 0;
    }
}
