using System.Diagnostics;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;
using Xunit.Abstractions;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A reader waiting for frames, or a writer waiting for space, sleeps: with the Blocking and SpinThenBlock
/// strategies its process uses (near) zero CPU. A behaviour check with a generous bound, not a benchmark.
/// </summary>
public sealed class IdleCpuTests(ITestOutputHelper output) : PeerTest
{
    /// <summary>/proc reports CPU time in USER_HZ ticks, which is 100 per second on Linux.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>The bound: a tenth of one core.</summary>
    private const double MaxShareOfOneCore = 0.10;

    private static readonly TimeSpan s_idleWindow = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    public void ReaderProcessWaitingForFramesUsesNearZeroCpu(WaitStrategy strategy)
    {
        string name = NewName("idler");
        PeerProcess reader = StartPeer("reader", name, "--payload", "65536", "--strategy", strategy.ToString(), "--verbose");
        reader.WaitForLine(PeerOutput.Ready);
        using var writer = new RingWriter(name);
        writer.Write(PatternedFrame(1, 100), HangGuard);
        // The reader has read the frame and gone back to waiting, with its writer connected and silent.
        reader.WaitForLine(PeerOutput.Frame);

        AssertIdle(reader, strategy);
    }

    [Theory]
    [InlineData(WaitStrategy.Blocking)]
    [InlineData(WaitStrategy.SpinThenBlock)]
    public void WriterProcessWaitingForSpaceUsesNearZeroCpu(WaitStrategy strategy)
    {
        string name = NewName("idlew");
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 << 10 });
        PeerProcess writer = StartConnectedWriter(name, "--size", "1000", "--forever", "--strategy", strategy.ToString());
        Assert.True(SpinWait.SpinUntil(() => reader.GetStats().FreeBytes < 1016, HangGuard), "the writer did not fill the buffer");

        AssertIdle(writer, strategy);
        Assert.Equal(ReadStatus.Success, reader.TryRead(out Frame frame, HangGuard));
        frame.Dispose();
    }

    private void AssertIdle(PeerProcess peer, WaitStrategy strategy)
    {
        long ticksBefore = peer.CpuTicks();
        long start = Stopwatch.GetTimestamp();
        Thread.Sleep(s_idleWindow);
        long ticksAfter = peer.CpuTicks();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        double share = (ticksAfter - ticksBefore) / TicksPerSecond / seconds;
        output.WriteLine($"{strategy}: {ticksAfter - ticksBefore} ticks of CPU in {seconds:F2} s = {share:P1} of one core");
        Assert.True(share < MaxShareOfOneCore,
            $"The idle peer used {share:P1} of one core ({ticksAfter - ticksBefore} ticks in {seconds:F2} s) with {strategy}. {peer.Describe()}");
    }
}
