using ZeroLane.Tests.Infrastructure;
using ZeroLane.Tests.Topics;

namespace ZeroLane.Tests.Cli;

/// <summary><c>zerolane demo --subscribers N</c>: one publisher process, N verifying subscriber processes, nothing left behind.</summary>
public sealed class DemoStreamsFramesToSeveralSubscribers : TopicTest
{
    private string? _topic;
    [Fact]
    public async Task DemoWithTwoSubscribersExitsWithZeroAndEachVerifiedEveryFrame()
    {
        using ToolProcess demo = ToolProcess.Start("demo", "--subscribers", "2", "--seconds", "1");
        string topic = _topic = $"zerolane-demo-{demo.Id}";
        await demo.WriteInputAsync([]);
        ToolResult result = await demo.WaitAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("result        OK", result.Output);
        Assert.Matches(@"subscriber 1 +frames [1-9][\d,]* in .*lost 0, reordered 0, corrupt 0", result.Output);
        Assert.Matches(@"subscriber 2 +frames [1-9][\d,]* in .*lost 0, reordered 0, corrupt 0", result.Output);
        Assert.Empty(Leftovers(topic));
    }

    public override void Dispose()
    {
        foreach (string path in _topic is null ? [] : Leftovers(_topic))
        {
            File.Delete(path);
        }
        base.Dispose();
    }
}
