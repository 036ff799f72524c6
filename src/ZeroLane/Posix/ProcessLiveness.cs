using System.Globalization;

namespace ZeroLane.Posix;

/// <summary>Tells whether a recorded process is still the same running process.</summary>
internal static class ProcessLiveness
{
    private static readonly Lazy<ProcessIdentity> s_current =
        new(() => new ProcessIdentity(Environment.ProcessId, ReadStartTime(Environment.ProcessId)));

    internal static ProcessIdentity Current => s_current.Value;

    /// <summary>
    /// True if a process with the PID exists (EPERM counts: it exists but is another user's) and, when a
    /// start time was recorded, it is the same process rather than a later one that reused the PID.
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
        if (process.StartTime == 0)
        {
            return true;
        }
        ulong actual = ReadStartTime(process.Pid);
        return actual == 0 || actual == process.StartTime;
    }

    /// <summary>Start time of a process in clock ticks after boot, or 0 if it cannot be read.</summary>
    /// <remarks>Reads /proc/PID/stat into a stack buffer: liveness checks run inside wait loops, which must not allocate.</remarks>
    internal static unsafe ulong ReadStartTime(int pid)
    {
        Span<byte> path = stackalloc byte[32];
        "/proc/"u8.CopyTo(path);
        pid.TryFormat(path[6..], out int digits, default, CultureInfo.InvariantCulture);
        "/stat\0"u8.CopyTo(path[(6 + digits)..]);

        int fd;
        fixed (byte* pathPointer = path)
        {
            fd = OpenRaw(pathPointer);
        }
        if (fd < 0)
        {
            return 0;
        }
        byte* buffer = stackalloc byte[1024];
        nint length;
        try
        {
            length = Interop.Sys.Read(fd, buffer, 1024);
        }
        finally
        {
            Interop.Sys.Close(fd);
        }
        return length <= 0 ? 0 : ParseStartTime(new ReadOnlySpan<byte>(buffer, (int)length));
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

    private static unsafe int OpenRaw(byte* path) => Interop.Sys.OpenRaw(path, Interop.Sys.OpenFlags.O_RDONLY | Interop.Sys.OpenFlags.O_CLOEXEC, 0);
}
