using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary><c>zerolane write</c> into <c>zerolane read</c>: the bytes come out exactly as they went in.</summary>
public sealed class ReadAndWriteCarryDataThroughABuffer : BufferTest
{
    private readonly string _directory = Directory.CreateTempSubdirectory("zltest-cli-").FullName;

    [Fact]
    public async Task BytesPipedIntoWriteComeOutOfReadUnchangedWithTheMetadataPrinted()
    {
        string name = NewName("cli-pipe");
        byte[] data = RandomBytes(3_500_000, seed: 1);
        using ToolProcess reader = ToolProcess.Start("read", name, "--print-metadata", "--payload-size", "1M");
        await ToolProcess.WaitForReaderAsync(name, reader);

        ToolResult written = await ToolProcess.RunAsync(["write", name, "--frame-size", "100000", "--metadata", "camera=front"], data);
        ToolResult read = await reader.WaitAsync();

        Assert.True(written.ExitCode == 0, written.ToString());
        Assert.True(read.ExitCode == 0, read.ToString());
        AssertSameBytes(data, read.OutputBytes);
        Assert.Contains("metadata (12 bytes): camera=front", read.Error);
        Assert.Empty(TestBuffers.Leftovers(name));
    }

    [Fact]
    public async Task FilesGivenWithInOutAndMetadataFromAFileRoundTripExactlyAcrossManyWrapsOfTheRing()
    {
        string name = NewName("cli-files");
        byte[] data = RandomBytes(5_000_003, seed: 2);
        string input = Path.Combine(_directory, "in.bin");
        string output = Path.Combine(_directory, "out.bin");
        string metadata = Path.Combine(_directory, "metadata.txt");
        await File.WriteAllBytesAsync(input, data);
        await File.WriteAllTextAsync(metadata, "from a file");
        // 64 KiB of payload and 10,000-byte frames: the 5 MB wrap around the ring about 80 times.
        using ToolProcess reader = ToolProcess.Start("read", name, "--out", output, "--payload-size", "64K", "--wait", "blocking", "--print-metadata");
        await ToolProcess.WaitForReaderAsync(name, reader);

        ToolResult written = await ToolProcess.RunAsync("write", name, "--in", input, "--frame-size", "10000", "--metadata", "@" + metadata);
        ToolResult read = await reader.WaitAsync();

        Assert.True(written.ExitCode == 0, written.ToString());
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Empty(read.OutputBytes);
        AssertSameBytes(data, await File.ReadAllBytesAsync(output));
        Assert.Contains("metadata (11 bytes): from a file", read.Error);
    }

    [Fact]
    public async Task ReadWithCountStopsAfterThatManyFrames()
    {
        string name = NewName("cli-count");
        byte[] data = RandomBytes(4 * 1000, seed: 3);
        using ToolProcess reader = ToolProcess.Start("read", name, "--count", "2");
        await ToolProcess.WaitForReaderAsync(name, reader);

        using ToolProcess writer = ToolProcess.Start("write", name, "--frame-size", "1000");
        await writer.WriteInputAsync(data);
        ToolResult read = await reader.WaitAsync();
        await writer.WaitAsync();

        Assert.True(read.ExitCode == 0, read.ToString());
        AssertSameBytes(data.AsSpan(0, 2000).ToArray(), read.OutputBytes);
    }

    [Fact]
    public async Task WriteSucceedsWhenTheInputIsWholeFramesAndTheReaderLeavesAfterTheLast()
    {
        string name = NewName("cli-exact");
        byte[] data = RandomBytes(4 * 1000, seed: 4);
        // The reader leaves as soon as it has the 4th frame; the writer must not reserve room for a 5th it does not have.
        using ToolProcess reader = ToolProcess.Start("read", name, "--count", "4");
        await ToolProcess.WaitForReaderAsync(name, reader);

        ToolResult written = await ToolProcess.RunAsync(["write", name, "--frame-size", "1000"], data);
        ToolResult read = await reader.WaitAsync();

        Assert.True(written.ExitCode == 0, written.ToString());
        Assert.True(read.ExitCode == 0, read.ToString());
        AssertSameBytes(data, read.OutputBytes);
    }

    [Fact]
    public async Task WriteWithAConnectTimeoutWaitsForTheReaderToCreateTheBuffer()
    {
        string name = NewName("cli-waits");
        byte[] data = RandomBytes(3 * 1000 + 17, seed: 5);
        // The writer starts first; without --connect-timeout it would fail at once for want of a buffer.
        using ToolProcess writer = ToolProcess.Start("write", name, "--frame-size", "1000", "--connect-timeout", "60");
        await writer.WriteInputAsync(data);

        ToolResult read = await ToolProcess.RunAsync("read", name);
        ToolResult written = await writer.WaitAsync();

        Assert.True(written.ExitCode == 0, written.ToString());
        Assert.True(read.ExitCode == 0, read.ToString());
        AssertSameBytes(data, read.OutputBytes);
    }

    [Fact]
    public async Task ReadEndsItsSessionWhenAWriterConnectsAndLeavesWithoutWriting()
    {
        string name = NewName("cli-empty");
        using ToolProcess reader = ToolProcess.Start("read", name);
        await ToolProcess.WaitForReaderAsync(name, reader);

        // Empty input: the writer connects, finds nothing to send and disconnects.
        ToolResult written = await ToolProcess.RunAsync(["write", name], []);
        ToolResult read = await reader.WaitAsync();

        Assert.True(written.ExitCode == 0, written.ToString());
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Empty(read.OutputBytes);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static void AssertSameBytes(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int firstDifference = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(firstDifference == expected.Length, $"The bytes differ first at offset {firstDifference}.");
    }

    public override void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        base.Dispose();
    }
}
