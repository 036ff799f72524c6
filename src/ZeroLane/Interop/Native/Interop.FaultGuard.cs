using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    /// <summary>The SIGBUS fault guard of libzerolane_native (src/ZeroLane/Native/fault_guard.c).</summary>
    internal static partial class FaultGuard
    {
        /// <summary>Installs the SIGBUS handler once per process; 0 or the errno of the failure.</summary>
        [LibraryImport(Libraries.ZeroLaneNative, EntryPoint = "zl_fault_guard_install")]
        internal static partial int Install();

        /// <summary>1 if our handler is the SIGBUS handler now, 0 if another one replaced it.</summary>
        [LibraryImport(Libraries.ZeroLaneNative, EntryPoint = "zl_fault_guard_is_installed")]
        internal static partial int IsInstalled();

        /// <summary>Guards [start, start + length) mapped with <paramref name="protection"/>; the slot, or -1 when the table is full.</summary>
        [LibraryImport(Libraries.ZeroLaneNative, EntryPoint = "zl_fault_guard_register")]
        internal static partial int Register(nint start, nuint length, int protection);

        /// <summary>The address of the slot's fault flag (an int the handler sets to 1), valid while the slot is registered.</summary>
        [LibraryImport(Libraries.ZeroLaneNative, EntryPoint = "zl_fault_guard_flag")]
        internal static partial nint Flag(int slot);

        /// <summary>Stops guarding the slot's range; called before the range is unmapped.</summary>
        [LibraryImport(Libraries.ZeroLaneNative, EntryPoint = "zl_fault_guard_unregister")]
        internal static partial void Unregister(int slot);
    }
}
