using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// <c>zerolane clean</c> removes buffers whose reader died, after asking. Each test keeps its reader's lock
/// file in a private directory and names its buffer, so that neither other readers' stale sweeps nor this
/// cleaner touch anyone else's buffers while tests run in parallel.
/// </summary>
public sealed class CleanRemovesBuffersOfDeadReaders : BufferTest
{
    private readonly string _lockDirectory = Directory.CreateTempSubdirectory("zltest-cli-locks-").FullName;

    [Fact]
    public async Task CleanWithYesRemovesTheBufferOfAReadProcessKilledWithSigkill()
    {
        string name = await CreateStaleBufferAsync();

        ToolResult result = await ToolProcess.RunAsync("clean", "--yes", "--lock-dir", _lockDirectory, name);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Removed {name}\n", result.Output);
        Assert.Null(TestBuffers.StatsOrNull(name));
        Assert.Empty(TestBuffers.Leftovers(name, _lockDirectory));
    }

    [Fact]
    public async Task CleanAsksFirstAndKeepsTheBufferWhenTheAnswerIsNo()
    {
        string name = await CreateStaleBufferAsync();

        ToolResult result = await ToolProcess.RunAsync(["clean", "--lock-dir", _lockDirectory, name], "n\n"u8.ToArray());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Remove 1 buffer? [y/N]", result.Output);
        Assert.Contains("Nothing removed.", result.Output);
        Assert.NotNull(TestBuffers.StatsOrNull(name));
    }

    [Fact]
    public async Task CleanRemovesTheBufferWhenTheAnswerIsYes()
    {
        string name = await CreateStaleBufferAsync();

        ToolResult result = await ToolProcess.RunAsync(["clean", "--lock-dir", _lockDirectory, name], "y\n"u8.ToArray());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Removed {name}\n", result.Output);
        Assert.Empty(TestBuffers.Leftovers(name, _lockDirectory));
    }

    [Fact]
    public async Task CleanWithNothingOnStandardInputRemovesNothingAndSaysToUseYes()
    {
        string name = await CreateStaleBufferAsync();

        ToolResult result = await ToolProcess.RunAsync("clean", "--lock-dir", _lockDirectory, name);

        ToolProcess.AssertOneLineError(result, "use --yes");
        Assert.NotNull(TestBuffers.StatsOrNull(name));
    }

    [Fact]
    public async Task CleanOfABufferWithALiveReaderSaysItIsNotStaleAndKeepsIt()
    {
        string name = NewName("cli-live");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20, LockDirectory = _lockDirectory });

        ToolResult result = await ToolProcess.RunAsync("clean", "--yes", "--lock-dir", _lockDirectory, name);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{name}: not stale, its reader is alive.", result.Output);
        Assert.Contains("No stale buffers.", result.Output);
        Assert.NotNull(TestBuffers.StatsOrNull(name));
    }

    /// <summary>Starts <c>zerolane read</c>, waits until its buffer exists, and kills it with SIGKILL.</summary>
    private async Task<string> CreateStaleBufferAsync()
    {
        string name = NewName("cli-stale");
        using ToolProcess reader = ToolProcess.Start("read", name, "--payload-size", "1M", "--lock-dir", _lockDirectory);
        await ToolProcess.WaitForReaderAsync(name, reader);
        reader.Kill();
        Assert.Equal(false, TestBuffers.StatsOrNull(name)?.ReaderAlive);
        return name;
    }

    public override void Dispose()
    {
        base.Dispose();
        Directory.Delete(_lockDirectory, recursive: true);
    }
}
