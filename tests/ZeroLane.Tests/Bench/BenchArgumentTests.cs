using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary><c>zerolane bench</c> refuses bad options with exit code 1 and a one-line message, before measuring anything.</summary>
public sealed class BenchArgumentTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("--sizes", "0")]
    [InlineData("--sizes", "abc")]
    [InlineData("--sizes", "1G")]
    [InlineData("--only", "pipes")]
    [InlineData("--seconds", "0")]
    [InlineData("--wait", "sometimes")]
    public void BenchRejectsABadOptionWithExitCodeOneAndOneLine(string option, string value)
    {
        (int exitCode, _, string output, string errors) = ToolProcess.Run(s_timeout, "bench", option, value, "--json");

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        Assert.StartsWith("zerolane: " + option, errors);
        Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void BenchOnlyCacheLinePrintsOneCacheLineResult()
    {
        (int exitCode, _, string output, string errors) = ToolProcess.Run(s_timeout, "bench", "--only", "cacheline", "--seconds", "0.1", "--warmup", "0", "--json");

        Assert.True(exitCode == 0, errors);
        string line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"transport\":\"cacheline\"", line);
    }
}
