using System.Diagnostics;
using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>
/// A bench peer's side of the conversation with its parent: "ready" and the final report go to stdout as
/// lines; stdin is never written by the parent, so its end of file means the parent is gone and the peer
/// must give up (its finally blocks then remove its buffers and socket). Every wait also ends at an overall
/// deadline, so a peer whose partner died can never hang.
/// </summary>
internal static class PeerChannel
{
    /// <summary>How long one wait inside a hot loop may block before the loop checks for abandonment.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Slack past warm-up plus window before a peer decides its partner is never coming.</summary>
    private const double DeadlineSlackSeconds = 60;

    private static volatile bool s_parentGone;
    private static long s_deadline = long.MaxValue;

    /// <summary>
    /// Pins the calling (measuring) thread to the peer's CPU if it has one, starts watching stdin and sets the overall deadline
    /// from the peer's options.
    /// </summary>
    internal static void Begin(PeerOptions options)
    {
        // The parent chose a CPU this process may use; a refusal would make the row's "cpus" column a lie.
        if (options.Cpu >= 0 && !ThreadAffinity.TryPinCurrentThread(options.Cpu))
        {
            throw new InvalidOperationException($"Could not pin the peer to CPU {options.Cpu} (sched_setaffinity failed).");
        }
        s_deadline = Stopwatch.GetTimestamp() + SecondsToTicks(options.WarmupSeconds + options.Seconds + DeadlineSlackSeconds);
        var watcher = new Thread(WatchParent) { IsBackground = true, Name = "bench parent watch" };
        watcher.Start();
    }

    /// <summary>Time left before the overall deadline.</summary>
    internal static TimeSpan Remaining =>
        TimeSpan.FromSeconds(Math.Max(0, (s_deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency));

    /// <summary>True once stdin has closed: the parent is gone. One volatile read, cheap enough for hot loops.</summary>
    internal static bool ParentGone => s_parentGone;

    internal static long SecondsToTicks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    internal static long TicksToNs(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));

    internal static void SignalReady() => Console.Out.WriteLine("ready");

    internal static void Report(PeerReport report) => Console.Out.WriteLine(report.ToJson());

    /// <summary>Throws when the parent is gone or the overall deadline has passed; called whenever a wait comes back empty.</summary>
    internal static void ThrowIfAbandoned()
    {
        if (s_parentGone)
        {
            throw new OperationCanceledException("The bench parent process is gone.");
        }
        if (Stopwatch.GetTimestamp() > s_deadline)
        {
            throw new TimeoutException("The bench peer gave up: its partner stopped responding.");
        }
    }

    /// <summary>Decides what an unsuccessful read means: keep waiting (timeout) or fail (writer gone).</summary>
    internal static void OnReadStall(ReadStatus status)
    {
        if (status != ReadStatus.TimedOut)
        {
            throw new InvalidOperationException($"The writing peer went away before the end of the measurement ({status}).");
        }
        ThrowIfAbandoned();
    }

    /// <summary>Decides what an unsuccessful write means: keep waiting (timeout) or fail (reader gone).</summary>
    internal static void OnWriteStall(WriteStatus status)
    {
        if (status != WriteStatus.TimedOut)
        {
            throw new InvalidOperationException($"The reading peer went away before the end of the measurement ({status}).");
        }
        ThrowIfAbandoned();
    }

    private static void WatchParent()
    {
        try
        {
            using Stream input = Console.OpenStandardInput();
            var buffer = new byte[64];
            while (input.Read(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
        }
        s_parentGone = true;
    }
}
