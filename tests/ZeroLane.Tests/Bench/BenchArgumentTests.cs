using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// <c>zerolane bench</c> refuses bad options before measuring anything, as every command does: one line <c>zerolane: ...</c>
/// on stderr and exit code 1; so is a part named in <c>--only</c> that can carry none of the <c>--sizes</c>.
/// </summary>
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
    [InlineData("--repeat", "0")]
    public void BenchRejectsABadOptionInOneLineWithExitCode1(string option, string value)
    {
        (int exitCode, _, string output, string errors) = ToolProcess.Run(s_timeout, "bench", option, value, "--json");

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        string line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("zerolane: ", line);
        Assert.Contains(option, line);
    }

    [Theory]
    [InlineData("messages", "64", "1 KiB")]
    [InlineData("messages", "64,512", "1 KiB")]
    [InlineData("arrays", "1001", "multiples of 4 B")]
    public void APartNamedInOnlyThatCanCarryNoneOfTheSizesIsRefusedInOneLineWithExitCode1(string part, string sizes, string needs)
    {
        (int exitCode, _, string output, string errors) = ToolProcess.Run(s_timeout, "bench", "--only", part, "--sizes", sizes);

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        string line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"zerolane: --only {part} needs ", line);
        Assert.Contains(needs, line);
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
