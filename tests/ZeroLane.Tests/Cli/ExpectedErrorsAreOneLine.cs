using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>Expected failures print one clear line on standard error, no stack trace, and exit with code 1.</summary>
public sealed class ExpectedErrorsAreOneLine : BufferTest
{
    [Theory]
    [InlineData("stat")]
    [InlineData("read")]
    [InlineData("write")]
    [InlineData("clean")]
    public async Task AnInvalidBufferNameGivesExitCodeOneAndTheValidationMessage(string command)
    {
        ToolResult result = await ToolProcess.RunAsync(command, "bad/name");

        ToolProcess.AssertOneLineError(result, "'bad/name' is not a valid buffer name: character 4 ('/') is not allowed");
    }

    [Theory]
    [InlineData("read x --count many", "many")]
    [InlineData("bench --no-such-option", "--no-such-option")]
    [InlineData("no-such-command", "no-such-command")]
    [InlineData("stat", "'name'")]
    [InlineData("read x --wait sometimes", "sometimes")]
    public async Task AParseErrorIsOneLineThatSaysWhereToLookNotTheHelpPage(string arguments, string mentioned)
    {
        ToolResult result = await ToolProcess.RunAsync(arguments.Split(' '));

        ToolProcess.AssertOneLineError(result, mentioned);
        Assert.Contains("--help')", result.Error);
    }

    [Theory]
    [InlineData("read", "--payload-size", "10")]
    [InlineData("read", "--payload-size", "63")]
    [InlineData("bridge send", "--payload-size", "0")]
    public async Task AnOptionTheLibraryRefusesIsOneLineNotAStackTrace(string command, string option, string value)
    {
        string name = NewName("cli-badopt");
        string[] arguments = [.. command.Split(' '), name, option, value, .. command == "bridge send" ? new[] { "--to", "127.0.0.1:1" } : []];

        ToolResult result = await ToolProcess.RunAsync(arguments);

        ToolProcess.AssertOneLineError(result, "--payload-size must be at least 64 bytes");
        Assert.DoesNotContain("Unhandled exception", result.Error);
        Assert.Empty(TestBuffers.Leftovers(name));
    }

    [Theory]
    [InlineData("busy-spin")]
    [InlineData("spin-then-block")]
    [InlineData("blocking")]
    [InlineData("busy")]
    [InlineData("spin")]
    public async Task EveryWaitNameOfBenchAndItsShortFormIsTakenByRead(string wait)
    {
        string name = NewName("cli-wait");

        ToolResult result = await ToolProcess.RunAsync("read", name, "--wait", wait, "--timeout", "0.1");

        // Past parsing: the read ran and gave up for want of a frame.
        ToolProcess.AssertOneLineError(result, $"no frame arrived in buffer '{name}'");
    }

    [Fact]
    public async Task WriteWithoutAReaderSaysToStartTheReaderFirst()
    {
        string name = NewName("cli-noreader");

        ToolResult result = await ToolProcess.RunAsync(["write", name], "data"u8.ToArray());

        ToolProcess.AssertOneLineError(result, "start the reader first");
    }

    [Fact]
    public async Task WriteWithAFrameSizeTheBufferCannotHoldFailsWithoutEndingTheReadersSession()
    {
        string name = NewName("cli-toolarge");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 64 * 1024 });

        ToolResult result = await ToolProcess.RunAsync(["write", name, "--frame-size", "70000"], new byte[100]);

        ToolProcess.AssertOneLineError(result, $"--frame-size 70000 does not fit buffer '{name}'");
        Assert.Equal(0, TestBuffers.StatsOrNull(name)!.WriterPid);
        Assert.Equal(ReadStatus.TimedOut, reader.TryRead(out _, TimeSpan.Zero));
    }

    [Fact]
    public async Task ReadWithATimeoutGivesUpWhenNoFrameArrives()
    {
        string name = NewName("cli-timeout");

        ToolResult result = await ToolProcess.RunAsync("read", name, "--timeout", "0.2");

        ToolProcess.AssertOneLineError(result, $"no frame arrived in buffer '{name}' within 0.2 s");
        Assert.Empty(TestBuffers.Leftovers(name));
    }

    [Fact]
    public async Task VersionPrintsTheToolVersion()
    {
        ToolResult result = await ToolProcess.RunAsync("--version");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("0.1.0", result.Output);
    }
}
