using System.Text;
using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary><c>zerolane stat NAME</c> shows one buffer's figures, once or refreshed.</summary>
public sealed class StatDescribesOneBuffer : BufferTest
{
    [Fact]
    public async Task StatOfAMissingBufferExitsWithOneAndSaysItDoesNotExist()
    {
        string name = NewName("cli-missing");

        ToolResult result = await ToolProcess.RunAsync("stat", name);

        ToolProcess.AssertOneLineError(result, $"no buffer named '{name}' exists");
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task StatShowsTheFramesMetadataAndPeersOfABuffer()
    {
        string name = NewName("cli-stat");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        writer.SetMetadata("hello"u8);
        writer.Write(new byte[1000]);

        ToolResult result = await ToolProcess.RunAsync("stat", name);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Name:              {name}\n", result.Output);
        Assert.Contains("Payload capacity:  1.0 MiB (1048576 bytes)\n", result.Output);
        Assert.Contains("Metadata length:   5 bytes\n", result.Output);
        Assert.Contains("Frames written:    1\n", result.Output);
        Assert.Contains($"Writer:            {Environment.ProcessId} (alive)\n", result.Output);
        Assert.Contains($"Reader:            {Environment.ProcessId} (alive), ZeroLane reader\n", result.Output);
    }

    [Fact]
    public async Task StatWatchWithCountRefreshesThatManyTimesAndExits()
    {
        string name = NewName("cli-watch");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });

        ToolResult result = await ToolProcess.RunAsync("stat", name, "--watch", "--count", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, CountOccurrences(result.Output, $"Name:              {name}\n"));
    }

    private static int CountOccurrences(string text, string value)
    {
        int count = 0;
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
