using System.Runtime.InteropServices;

namespace ZeroLane.Bench;

/// <summary>Pins the calling thread to one CPU (sched_setaffinity), for the cache-line round trip.</summary>
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
