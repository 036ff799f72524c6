using Xunit;

namespace ZeroLane.Tests.Bench;

/// <summary>A bench run removes every buffer and socket it created.</summary>
[Collection(ZeroLane.Tests.Infrastructure.NonParallelCollection.Name)]
public sealed class BenchCleanupTests
{
    private readonly BenchJsonRun _run;

    public BenchCleanupTests(BenchJsonRun run) => _run = run;

    [Fact]
    public void BenchLeavesNoBufferObjectsBehind()
    {
        Assert.True(_run.ExitCode == 0, $"exit code {_run.ExitCode}\n{_run.Errors}");
        Assert.Empty(_run.LeftoverBufferNames());
    }

    [Fact]
    public void BenchLeavesNoSocketDirectoryBehind()
    {
        Assert.True(_run.ExitCode == 0, $"exit code {_run.ExitCode}\n{_run.Errors}");
        Assert.Empty(Directory.EnumerateDirectories(Path.GetTempPath(), $"zerolane-bench-{_run.ProcessId}-*"));
    }
}
