using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary><c>zerolane demo</c>: a reader and a writer child process stream verified frames and clean up after themselves.</summary>
public sealed class DemoStreamsFramesBetweenTwoProcesses : IDisposable
{
    private string? _bufferName;

    [Fact]
    public async Task DemoForTwoSecondsExitsWithZeroAndReportsNoLostReorderedOrCorruptFrames()
    {
        ToolResult result = await RunDemoAsync("demo", "--seconds", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("lost 0, reordered 0, corrupt 0", result.Output);
        Assert.Contains("result     OK", result.Output);
        Assert.Matches(@"frames +[1-9][\d,]* in ", result.Output);
        Assert.Matches(@"latency +p50 .+, p99 .+, max ", result.Output);
        Assert.Empty(TestBuffers.Leftovers(_bufferName!));
    }

    [Fact]
    public async Task DemoWithOddSizedFramesInASmallRingVerifiesEveryFrame()
    {
        // 100,003-byte frames (not a multiple of 8) through a 1 MiB ring: many wraps and a partial last word.
        ToolResult result = await RunDemoAsync("demo", "--seconds", "1", "--frame-size", "100003", "--buffer-size", "1M");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("lost 0, reordered 0, corrupt 0", result.Output);
        Assert.Empty(TestBuffers.Leftovers(_bufferName!));
    }

    private async Task<ToolResult> RunDemoAsync(params string[] arguments)
    {
        using ToolProcess demo = ToolProcess.Start(arguments);
        _bufferName = $"zerolane-demo-{demo.Id}";
        await demo.WriteInputAsync([]);
        return await demo.WaitAsync();
    }

    public void Dispose()
    {
        if (_bufferName is not null)
        {
            TestBuffers.Remove(_bufferName);
        }
    }
}
