using System.Globalization;
using ZeroLane.Posix;

namespace ZeroLane.Cli;

/// <summary>Kills a child process and every process it started, reading only that tree in /proc.</summary>
/// <remarks>
/// Design: not <c>Process.Kill(entireProcessTree: true)</c>, which on Linux lists every process on the host first (the
/// stat, status and command line of each, and the stat of each of its threads), once for the check that the tree does
/// not hold the caller and again for each process of the tree. On a busy host that takes seconds, during which
/// <c>zerolane serve</c> neither answers nor stops: a caller waits out its timeout, and a stop that outlasts the server's
/// stop timeout exits with the command still running. Here each process is stopped (SIGSTOP) so that it starts no new
/// child, its children are read from <c>/proc/PID/task/TID/children</c> (or, on a kernel without that file, from the
/// parent field of every <c>/proc/PID/stat</c>), killed the same way, and then it is killed (SIGKILL). A process that
/// left the tree (a daemon that forked twice) is not found, as with .NET's walk.
/// </remarks>
internal static class ProcessTree
{
    /// <summary>How long to wait for a stopped process to be seen stopped before its children are read (best effort).</summary>
    private static readonly TimeSpan s_stopWait = TimeSpan.FromMilliseconds(100);

    /// <summary>Kills process <paramref name="pid"/> and its descendants with SIGKILL; a process already gone is skipped.</summary>
    internal static void Kill(int pid)
    {
        if (pid <= 0 || !ProcessLiveness.Signal(pid, ProcessLiveness.StopSignal))
        {
            return;
        }
        // kill(2) returns before the signal is acted on: a fork in progress could still add a child.
        SpinWait.SpinUntil(() => StateOf(pid) is 'T' or 't' or 'Z' or 'X' or null, s_stopWait);
        foreach (int child in ChildrenOf(pid))
        {
            Kill(child);
        }
        ProcessLiveness.Signal(pid, ProcessLiveness.KillSignal);
    }

    private static List<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string path = Path.Combine(task, "children");
                if (!File.Exists(path))
                {
                    return ChildrenByParentField(pid);
                }
                foreach (string word in File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int child))
                    {
                        children.Add(child);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process (or a thread) ended while we looked: what was read is what there is.
        }
        return children;
    }

    /// <summary>The processes whose parent is <paramref name="pid"/>, from field 4 of every /proc/PID/stat.</summary>
    private static List<int> ChildrenByParentField(int pid)
    {
        var children = new List<int>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int candidate))
            {
                continue;
            }
            if (StatFields(candidate) is { Length: > 1 } fields &&
                int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int parent) && parent == pid)
            {
                children.Add(candidate);
            }
        }
        return children;
    }

    private static char? StateOf(int pid) => StatFields(pid) is { Length: > 0 } fields && fields[0].Length > 0 ? fields[0][0] : null;

    /// <summary>Fields 3 onwards of /proc/PID/stat (state, parent, ...), or null if there is no such process.</summary>
    private static string[]? StatFields(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // Field 2, the command name, is in parentheses and may hold spaces and ')': the fields after it follow the last ')'.
        int end = stat.LastIndexOf(')');
        return end < 0 || end + 2 > stat.Length ? null : stat[(end + 2)..].Split(' ');
    }
}
