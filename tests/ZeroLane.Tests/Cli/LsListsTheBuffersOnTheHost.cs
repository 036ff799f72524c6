using System.Text.Json;
using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary><c>zerolane ls</c> lists every buffer, as a table or one JSON object per line.</summary>
public sealed class LsListsTheBuffersOnTheHost : BufferTest
{
    [Fact]
    public async Task LsJsonPrintsOneObjectPerLineIncludingABufferCreatedByTheTest()
    {
        string name = NewName("cli-ls");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });

        ToolResult result = await ToolProcess.RunAsync("ls", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement[] buffers = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToArray();
        JsonElement ours = Assert.Single(buffers, b => b.GetProperty("name").GetString() == name);
        Assert.Equal(reader.PayloadCapacity, ours.GetProperty("payloadCapacity").GetInt64());
        Assert.Equal(Environment.ProcessId, ours.GetProperty("readerPid").GetInt32());
        Assert.True(ours.GetProperty("readerAlive").GetBoolean());
        Assert.Equal(0, ours.GetProperty("writerPid").GetInt32());
        Assert.Equal("Healthy", ours.GetProperty("health").GetString());
        Assert.Equal(0UL, ours.GetProperty("framesWritten").GetUInt64());
    }

    [Fact]
    public async Task LsShowsABufferInTheTableWithItsLiveReader()
    {
        string name = NewName("cli-lstable");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });

        ToolResult result = await ToolProcess.RunAsync("ls");

        Assert.True(result.ExitCode == 0, result.ToString());
        string row = Assert.Single(result.Output.Split('\n'), line => line.StartsWith(name + " ", StringComparison.Ordinal));
        Assert.Contains("1.0 MiB", row);
        Assert.Contains($"{Environment.ProcessId} (alive)", row);
    }
}
