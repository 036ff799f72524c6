using System.Diagnostics;
using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// A demo stopped midway leaves no process and no buffer object behind: on SIGTERM the parent stops its
/// children and removes the buffer; when the parent is killed outright, the children notice their standard
/// input close and stop by themselves, the reader removing the buffer.
/// </summary>
public sealed class DemoLeavesNothingBehindWhenStopped : IDisposable
{
    private string? _bufferName;
    private BufferStats? _streaming;

    [Fact]
    public async Task SigtermStopsTheDemoWithExitCode143AndRemovesItsChildrenAndBuffer()
    {
        using ToolProcess demo = ToolProcess.Start("demo", "--seconds", "600");
        BufferStats streaming = await WaitUntilStreamingAsync(demo);

        await SendSignalAsync("TERM", demo.Id);
        ToolResult result = await demo.WaitAsync();

        Assert.True(result.ExitCode == 143, result.ToString());
        Assert.Contains("interrupted", result.Error);
        await WaitUntilGoneAsync(streaming.ReaderPid, streaming.WriterPid);
        Assert.Empty(TestBuffers.Leftovers(_bufferName!));
    }

    [Fact]
    public async Task ChildrenOfAKilledDemoStopByThemselvesAndTheReaderRemovesTheBuffer()
    {
        using ToolProcess demo = ToolProcess.Start("demo", "--seconds", "600");
        BufferStats streaming = await WaitUntilStreamingAsync(demo);

        demo.Kill();

        await WaitUntilGoneAsync(streaming.ReaderPid, streaming.WriterPid);
        Assert.Empty(TestBuffers.Leftovers(_bufferName!));
    }

    /// <summary>Waits until the demo's writer has published frames: both children run and the buffer exists.</summary>
    private async Task<BufferStats> WaitUntilStreamingAsync(ToolProcess demo)
    {
        _bufferName = $"zerolane-demo-{demo.Id}";
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < ToolProcess.SafetyTimeout)
        {
            if (TestBuffers.StatsOrNull(_bufferName) is { ReaderAlive: true, WriterAlive: true, FramesWritten: > 0 } stats)
            {
                _streaming = stats;
                return stats;
            }
            if (demo.HasExited)
            {
                Assert.Fail($"The demo exited before streaming.\n{await demo.WaitAsync()}");
            }
            await Task.Delay(20);
        }
        Assert.Fail("The demo did not start streaming.");
        return null!;
    }

    private static async Task SendSignalAsync(string signal, int pid)
    {
        using Process kill = Process.Start("kill", ["-s", signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits until none of the processes runs any more (gone, or a zombie nobody has reaped yet).</summary>
    private static async Task WaitUntilGoneAsync(params int[] pids)
    {
        var waited = Stopwatch.StartNew();
        while (pids.Any(IsRunning))
        {
            Assert.True(waited.Elapsed < ToolProcess.SafetyTimeout, $"Processes {string.Join(", ", pids.Where(IsRunning))} still run.");
            await Task.Delay(20);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the parenthesised command name, which may itself contain spaces.
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (_streaming is not null)
        {
            // If the test failed, children orphaned by a killed demo could stream on: stop them first.
            foreach (int pid in new[] { _streaming.ReaderPid, _streaming.WriterPid }.Where(IsDemoChild))
            {
                using Process child = Process.GetProcessById(pid);
                child.Kill();
                child.WaitForExit(ToolProcess.SafetyTimeout);
            }
        }
        if (_bufferName is not null)
        {
            TestBuffers.Remove(_bufferName);
        }
    }

    private bool IsDemoChild(int pid)
    {
        try
        {
            return IsRunning(pid) && File.ReadAllText($"/proc/{pid}/cmdline").Contains(_bufferName!, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
