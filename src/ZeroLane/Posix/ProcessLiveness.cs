using System.Globalization;

namespace ZeroLane.Posix;

/// <summary>Tells whether a recorded process is still the same running process.</summary>
internal static class ProcessLiveness
{
    private static readonly Lazy<ProcessIdentity> s_current =
        new(() => new ProcessIdentity(Environment.ProcessId, ReadStartTime(Environment.ProcessId)));

    internal static ProcessIdentity Current => s_current.Value;

    /// <summary>SIGSTOP (Linux, x64 and arm64), for <see cref="Signal"/>.</summary>
    internal const int StopSignal = 19;

    /// <summary>SIGKILL, for <see cref="Signal"/>.</summary>
    internal const int KillSignal = Interop.Sys.SIGKILL;

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>; false if it failed (no such process, say).</summary>
    internal static bool Signal(int pid, int signal) => Interop.Sys.Kill(pid, signal) == 0;

    /// <summary>
    /// True if a process with the PID exists (EPERM counts: it exists but is another user's), is not a
    /// zombie (killed but not yet reaped by its parent, which a PID check alone cannot tell from a running
    /// process), and, when a start time was recorded, is the same process rather than a later one that
    /// reused the PID.
    /// </summary>
    internal static bool IsAlive(ProcessIdentity process)
    {
        if (process.Pid <= 0)
        {
            return false;
        }
        if (Interop.Sys.Kill(process.Pid, 0) != 0)
        {
            int errno = Interop.Errno.Last;
            if (errno != Interop.Errno.EPERM)
            {
                return false;
            }
        }
        (char state, ulong startTime) = ReadStat(process.Pid);
        if (state is 'Z' or 'X' or 'x')
        {
            return false;
        }
        return process.StartTime == 0 || startTime == 0 || startTime == process.StartTime;
    }

    /// <summary>Start time of a process in clock ticks after boot, or 0 if it cannot be read.</summary>
    internal static ulong ReadStartTime(int pid) => ReadStat(pid).StartTime;

    /// <summary>State letter (field 3) and start time (field 22) of /proc/PID/stat; ('?', 0) if unreadable.</summary>
    /// <remarks>Reads into a stack buffer: liveness checks run inside wait loops, which must not allocate.</remarks>
    internal static (char State, ulong StartTime) ReadStat(int pid)
    {
        Span<byte> path = stackalloc byte[32];
        "/proc/"u8.CopyTo(path);
        pid.TryFormat(path[6..], out int digits, default, CultureInfo.InvariantCulture);
        "/stat\0"u8.CopyTo(path[(6 + digits)..]);
        Span<byte> buffer = stackalloc byte[1024];
        int length = Interop.Sys.ReadFile(path[..(6 + digits + 6)], buffer);
        if (length <= 0)
        {
            return ('?', 0);
        }
        ReadOnlySpan<byte> stat = buffer[..length];
        return (ParseState(stat), ParseStartTime(stat));
    }

    /// <summary>Field 3 of a /proc/PID/stat line: R, S, D, Z (zombie), X (dead), ...</summary>
    internal static char ParseState(ReadOnlySpan<byte> stat)
    {
        int afterName = stat.LastIndexOf((byte)')');
        return afterName >= 0 && afterName + 2 < stat.Length ? (char)stat[afterName + 2] : '?';
    }

    /// <summary>Field 22 of a /proc/PID/stat line. The command name (field 2) is in parentheses and may contain spaces and ')'.</summary>
    internal static ulong ParseStartTime(ReadOnlySpan<byte> stat)
    {
        int afterName = stat.LastIndexOf((byte)')');
        if (afterName < 0)
        {
            return 0;
        }
        ReadOnlySpan<byte> rest = stat[(afterName + 1)..];
        // rest begins " S ...": field 3 follows the first space, so field 22 follows the 20th space.
        for (int field = 2; field < 22; field++)
        {
            int space = rest.IndexOf((byte)' ');
            if (space < 0)
            {
                return 0;
            }
            rest = rest[(space + 1)..];
        }
        ulong value = 0;
        int i = 0;
        for (; i < rest.Length && rest[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            value = value * 10 + (ulong)(rest[i] - '0');
        }
        return i == 0 ? 0 : value;
    }
}
