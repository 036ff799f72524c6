using System.Runtime.InteropServices;

namespace ZeroLane.Bench;

/// <summary>
/// Pins the calling thread to one CPU (sched_setaffinity): the cache-line round trip's two threads, and the main thread of
/// each busy-spinning bench peer, each on a core of its own.
/// </summary>
internal static partial class ThreadAffinity
{
    // cpu_set_t as glibc defines it: 1024 bits.
    private const int MaskWords = 16;

    /// <summary>The CPUs this process may run on, lowest first; empty if the kernel would not say.</summary>
    internal static IReadOnlyList<int> AllowedCpus()
    {
        var mask = new ulong[MaskWords];
        if (SchedGetAffinity(0, (nuint)(MaskWords * sizeof(ulong)), ref mask[0]) != 0)
        {
            return [];
        }
        var cpus = new List<int>();
        for (int cpu = 0; cpu < MaskWords * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
            {
                cpus.Add(cpu);
            }
        }
        return cpus;
    }

    /// <summary>
    /// Two CPUs this process may use that are different cores (not SMT siblings, when the kernel says which are): the
    /// lowest allowed CPU and the lowest other one outside its sibling list. Null with fewer than two CPUs.
    /// </summary>
    internal static (int First, int Second)? TwoCores()
    {
        IReadOnlyList<int> cpus = AllowedCpus();
        if (cpus.Count < 2)
        {
            return null;
        }
        int first = cpus[0];
        IReadOnlySet<int> siblings = SiblingsOf(first);
        int second = cpus.Skip(1).Where(cpu => !siblings.Contains(cpu)).DefaultIfEmpty(cpus[1]).First();
        return (first, second);
    }

    /// <summary>The SMT siblings of <paramref name="cpu"/> (itself included), from sysfs; just itself if sysfs does not say.</summary>
    private static IReadOnlySet<int> SiblingsOf(int cpu)
    {
        var siblings = new HashSet<int> { cpu };
        try
        {
            // "0,64" or "0-1".
            string list = File.ReadAllText($"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list").Trim();
            foreach (string range in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] ends = range.Split('-');
                int low = int.Parse(ends[0], System.Globalization.CultureInfo.InvariantCulture);
                int high = int.Parse(ends[^1], System.Globalization.CultureInfo.InvariantCulture);
                for (int sibling = low; sibling <= high; sibling++)
                {
                    siblings.Add(sibling);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return siblings;
    }

    /// <summary>Restricts the calling thread to <paramref name="cpu"/>; false if the kernel refused.</summary>
    internal static bool TryPinCurrentThread(int cpu)
    {
        var mask = new ulong[MaskWords];
        mask[cpu / 64] = 1UL << (cpu % 64);
        return SchedSetAffinity(0, (nuint)(MaskWords * sizeof(ulong)), ref mask[0]) == 0;
    }

    // pid 0 = the calling thread.
    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetAffinity(int pid, nuint cpuSetSize, ref ulong mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nuint cpuSetSize, ref ulong mask);
}
