using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ZeroLane.Bench;

/// <summary>
/// The machine's floor for any cross-core handoff: two threads, pinned to two different CPUs when the
/// process may use two, bounce a counter in one cache line. The initiator writes an odd value and spins
/// until the echo has written the next even one; each round trip is timed with one clock read, and
/// one-way latency is half of it. Nothing else can hand a frame from one core to another faster.
/// </summary>
internal static class CacheLineBench
{
    // The counter sits 192 bytes into a 384-byte array, so no other data shares its cache line.
    private const int CellIndex = 24;
    private const int CellCount = 48;
    private const long StopValue = -1;

    /// <summary>Measures; <paramref name="pinnedCpus"/> says which CPUs the two threads ran on (null: not pinned).</summary>
    internal static BenchResult Run(double warmupSeconds, double seconds, int maxSamples, out (int Initiator, int Echo)? pinnedCpus)
    {
        IReadOnlyList<int> cpus = ThreadAffinity.AllowedCpus();
        bool pin = cpus.Count >= 2;
        var cells = new long[CellCount];
        var samples = new LatencySamples(maxSamples);
        long rounds = 0;
        double elapsedSeconds = 0;
        bool echoPinned = false, initiatorPinned = false;
        Exception? failure = null;

        var echo = new Thread(() =>
        {
            echoPinned = pin && ThreadAffinity.TryPinCurrentThread(cpus[1]);
            Echo(cells);
        })
        { IsBackground = true, Name = "cache-line echo" };
        var initiator = new Thread(() =>
        {
            try
            {
                initiatorPinned = pin && ThreadAffinity.TryPinCurrentThread(cpus[0]);
                long next = 1;
                PingFor(cells, ref next, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(warmupSeconds), null);
                long started = Stopwatch.GetTimestamp();
                rounds = PingFor(cells, ref next, started + PeerChannel.SecondsToTicks(seconds), samples);
                elapsedSeconds = (Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency;
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                Volatile.Write(ref cells[CellIndex], StopValue);
            }
        })
        { IsBackground = true, Name = "cache-line initiator" };

        echo.Start();
        initiator.Start();
        initiator.Join();
        echo.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("The cache-line round trip failed.", failure);
        }
        pinnedCpus = echoPinned && initiatorPinned ? (cpus[0], cpus[1]) : null;

        LatencySummary latency = samples.Summarize(divisor: 2);
        return new BenchResult
        {
            Transport = BenchResult.CacheLine,
            Mode = BenchResult.Latency,
            FrameBytes = 64,
            FramesPerSec = rounds / elapsedSeconds,
            BytesPerSec = rounds * 64 / elapsedSeconds,
            P50Ns = latency.P50Ns,
            P99Ns = latency.P99Ns,
            P999Ns = latency.P999Ns,
            MaxNs = latency.MaxNs,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Echo(long[] cells)
    {
        ref long cell = ref cells[CellIndex];
        long expected = 1;
        while (true)
        {
            long value;
            while ((value = Volatile.Read(ref cell)) != expected)
            {
                if (value == StopValue)
                {
                    return;
                }
            }
            Volatile.Write(ref cell, expected + 1);
            expected += 2;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long PingFor(long[] cells, ref long next, long deadline, LatencySamples? samples)
    {
        ref long cell = ref cells[CellIndex];
        long rounds = 0;
        long previous = Stopwatch.GetTimestamp();
        while (samples is null || !samples.IsFull)
        {
            long odd = next;
            Volatile.Write(ref cell, odd);
            while (Volatile.Read(ref cell) != odd + 1)
            {
            }
            next = odd + 2;
            long now = Stopwatch.GetTimestamp();
            samples?.Add(now - previous);
            previous = now;
            rounds++;
            if (now >= deadline)
            {
                break;
            }
        }
        return rounds;
    }
}
