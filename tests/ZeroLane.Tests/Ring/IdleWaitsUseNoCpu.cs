using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// An idle reader waiting for frames, or an idle writer waiting for space, sleeps rather than spins (except
/// with BusySpin). Measured as CPU time of the waiting thread itself, which other load cannot inflate.
/// </summary>
public sealed class IdleWaitsUseNoCpu : BufferTest
{
    private static readonly TimeSpan s_idle = TimeSpan.FromMilliseconds(600);

    /// <summary>utime + stime of the calling thread, in clock ticks (fields 14 and 15 of /proc/thread-self/stat).</summary>
    private static long ThreadCpuTicks()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    public void AReaderWaitingForFramesUsesAlmostNoCpu(WaitStrategy strategy)
    {
        using var calls = new BlockingCalls(NewName(), strategy);

        long ticks = Safety.Join(Safety.OnThread(() =>
        {
            long before = ThreadCpuTicks();
            Assert.Equal(ReadStatus.TimedOut, calls.Reader.TryRead(out _, s_idle));
            return ThreadCpuTicks() - before;
        }));

        // 600 ms of waiting at 100 ticks/s: a spinning wait would use about 60 ticks.
        Assert.True(ticks <= 10, $"the waiting reader used {ticks} ticks of CPU in {s_idle.TotalMilliseconds} ms");
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    public void AWriterWaitingForSpaceUsesAlmostNoCpu(WaitStrategy strategy)
    {
        using var calls = new BlockingCalls(NewName(), strategy);
        calls.FillBuffer();

        long ticks = Safety.Join(Safety.OnThread(() =>
        {
            long before = ThreadCpuTicks();
            Assert.Equal(WriteStatus.TimedOut, calls.Writer.TryWrite(new byte[10], s_idle));
            return ThreadCpuTicks() - before;
        }));

        Assert.True(ticks <= 10, $"the waiting writer used {ticks} ticks of CPU in {s_idle.TotalMilliseconds} ms");
    }
}
