using System.Runtime.InteropServices;

namespace ZeroLane.Posix;

/// <summary>
/// Keeps a file that another process truncates while we have it mapped from killing this process.
/// </summary>
/// <remarks>
/// Design: touching a mapped page past the end of a file that shrank raises SIGBUS, which .NET turns into a fatal,
/// uncatchable AccessViolationException. The native side (src/ZeroLane/Native/fault_guard.c) installs a SIGBUS
/// handler that chains to the runtime's; for an address inside a registered mapping it replaces the rest of the
/// mapping with zero pages and sets the mapping's fault flag, so the access completes (reading zeros) and the caller
/// checks the flag and throws. The handler is installed by the first registration, once per process; set
/// ZEROLANE_FAULT_GUARD=0 to leave SIGBUS alone. Without libzerolane_native (no C compiler at build time) or with
/// the guard switched off, every flag reads "not faulted" and a truncated mapping faults the process as before.
/// Flags are addresses of native ints; <see cref="MemoryMapping"/> reads them.
/// </remarks>
internal static class FaultGuard
{
    /// <summary>The address of a flag that is never set, for mappings the guard does not cover.</summary>
    internal static nint NeverFaulted { get; } = AllocateZeroedFlag();

    /// <summary>Whether the handler is installed and is still the process's SIGBUS handler.</summary>
    internal static bool IsActive => Installation.Error is null && Interop.FaultGuard.IsInstalled() != 0;

    /// <summary>Why the guard is not active, or null when it is.</summary>
    internal static string? InactiveReason =>
        Installation.Error ?? (IsActive ? null : "another SIGBUS handler was installed after ours and replaced it");

    /// <summary>
    /// Guards the mapping [<paramref name="start"/>, +<paramref name="length"/>) and returns its slot, with the address of the
    /// flag the handler sets in <paramref name="faultFlag"/> (slot -1 and <see cref="NeverFaulted"/> when the guard is not
    /// available or its table is full).
    /// </summary>
    internal static int Register(nint start, long length, int protection, out nint faultFlag)
    {
        faultFlag = NeverFaulted;
        if (Installation.Error is not null)
        {
            return -1;
        }
        int slot = Interop.FaultGuard.Register(start, (nuint)length, protection);
        if (slot >= 0)
        {
            faultFlag = Interop.FaultGuard.Flag(slot);
        }
        return slot;
    }

    /// <summary>Stops guarding a slot from <see cref="Register"/>; call before unmapping.</summary>
    internal static void Unregister(int slot)
    {
        if (slot >= 0)
        {
            Interop.FaultGuard.Unregister(slot);
        }
    }

    private static nint AllocateZeroedFlag()
    {
        nint flag = Marshal.AllocHGlobal(sizeof(int));
        Marshal.WriteInt32(flag, 0);
        return flag;
    }

    /// <summary>Installs the handler when first touched (type initialisation runs once per process).</summary>
    private static class Installation
    {
        /// <summary>Null once installed; otherwise why not.</summary>
        internal static readonly string? Error = Install();

        private static string? Install()
        {
            if (Environment.GetEnvironmentVariable("ZEROLANE_FAULT_GUARD") == "0")
            {
                return "switched off by ZEROLANE_FAULT_GUARD=0";
            }
            try
            {
                int error = Interop.FaultGuard.Install();
                return error == 0 ? null : $"sigaction(SIGBUS) failed with errno {error}";
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return "libzerolane_native.so was not built (no C compiler when ZeroLane was built) or cannot be loaded: " + e.Message;
            }
        }
    }
}
