namespace ZeroLane.Tests.Bench;

/// <summary>
/// What a <c>zerolane bench</c> run left behind, found by the prefix every name of the run contains
/// (<c>zlbench-PID-</c>): files in /dev/shm and the ring's lock directory, and peer processes whose command line names
/// it. Shared by the bench-run fixtures, which also use <see cref="Remove"/> so a failing run leaves nothing behind.
/// </summary>
internal static class BenchRunLeftovers
{
    private const string LockDirectory = "/tmp/zerobuffer";

    /// <summary>The run's files in /dev/shm and in the lock directory, as full paths.</summary>
    internal static string[] SharedMemory(string namePrefix) =>
        Directory.EnumerateFiles("/dev/shm")
            .Concat(Directory.Exists(LockDirectory) ? Directory.EnumerateFiles(LockDirectory) : [])
            .Where(path => Path.GetFileName(path).Contains(namePrefix, StringComparison.Ordinal))
            .ToArray();

    /// <summary>The run's processes still alive (other than this one).</summary>
    internal static int[] Processes(string namePrefix)
    {
        var found = new List<int>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ').Contains(namePrefix, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // It exited while being looked at.
            }
        }
        return found.ToArray();
    }

    /// <summary>Kills the run's processes still alive and removes its files.</summary>
    internal static void Remove(string namePrefix)
    {
        foreach (int pid in Processes(namePrefix))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(5000);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
        foreach (string path in SharedMemory(namePrefix))
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }
}
