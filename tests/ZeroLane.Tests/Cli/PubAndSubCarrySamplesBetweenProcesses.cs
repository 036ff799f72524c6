using System.Text;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Tests.Topics;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// <c>zerolane pub</c> into <c>zerolane sub</c>, both real processes: stdin lines, file chunks and synthetic samples arrive
/// exactly, and the subscriber ends when the publisher leaves.
/// </summary>
public sealed class PubAndSubCarrySamplesBetweenProcesses : TopicTest
{
    private readonly string _directory = Directory.CreateTempSubdirectory("zltest-topics-cli-").FullName;

    [Fact]
    public async Task LinesPipedIntoPubComeOutOfSubWithTheSameBytes()
    {
        string topic = NewTopic("cli-pubsub");
        var text = new StringBuilder();
        for (int i = 0; i < 3000; i++)
        {
            text.Append(i % 7 == 0 ? "" : new string((char)('a' + i % 26), i % 300)).Append('\n');
        }
        text.Append("a last line without a newline");
        byte[] data = Encoding.UTF8.GetBytes(text.ToString());
        string output = Path.Combine(_directory, "lines.out");
        using ToolProcess subscriber = ToolProcess.Start("sub", topic, "--out", output, "--overflow", "block");
        await WaitForSubscriberAsync(topic, subscriber);

        ToolResult published = await ToolProcess.RunAsync(["pub", topic, "--subscribers", "1", "--ack-timeout", "60"], data);
        ToolResult received = await subscriber.WaitAsync();

        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.True(received.ExitCode == 0, received.ToString());
        AssertSameBytes(data, await File.ReadAllBytesAsync(output));
        Assert.Empty(Leftovers(topic));
    }

    [Fact]
    public async Task AFileInChunksArrivesWholeThroughSubsStandardOutput()
    {
        string topic = NewTopic("cli-pubchunks");
        byte[] data = new byte[250_003];
        new Random(7).NextBytes(data);
        string input = Path.Combine(_directory, "in.bin");
        await File.WriteAllBytesAsync(input, data);
        using ToolProcess subscriber = ToolProcess.Start("sub", topic, "--overflow", "block");
        await WaitForSubscriberAsync(topic, subscriber);

        ToolResult published = await ToolProcess.RunAsync("pub", topic, "--in", input, "--size", "10000", "--subscribers", "1", "--ack-timeout", "60");
        ToolResult received = await subscriber.WaitAsync();

        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.True(received.ExitCode == 0, received.ToString());
        AssertSameBytes(data, received.OutputBytes);
    }

    [Fact]
    public async Task SyntheticSamplesAtARateAreCountedBySubHz()
    {
        string topic = NewTopic("cli-pubrate");
        using ToolProcess subscriber = ToolProcess.Start("sub", topic, "--hz", "--count", "20", "--overflow", "block");
        await WaitForSubscriberAsync(topic, subscriber);

        ToolResult published = await ToolProcess.RunAsync("pub", topic, "--rate", "1000", "--count", "20", "--size", "128", "--subscribers", "1", "--ack-timeout", "60");
        ToolResult received = await subscriber.WaitAsync();

        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.True(received.ExitCode == 0, received.ToString());
        Assert.Matches(@"samples/s .*latency p50 .+ p99 .+ max .+ dropped 0", received.Output);
    }

    [Fact]
    public async Task BadTopicNamesAndOptionsAreOneLineErrors()
    {
        ToolProcess.AssertOneLineError(await ToolProcess.RunAsync("pub", "bad/name"), "is not a valid topic name");
        ToolProcess.AssertOneLineError(await ToolProcess.RunAsync("sub", "x", "--count", "0"), "--count must be at least 1");
        ToolProcess.AssertOneLineError(await ToolProcess.RunAsync("pub", "x", "--rate", "10", "--in", "/nonexistent"), "--rate publishes synthetic samples");
        ToolProcess.AssertOneLineError(await ToolProcess.RunAsync("pub", NewTopic("cli-nofile"), "--in", Path.Combine(_directory, "missing")), "no file");
    }

    /// <summary>Waits until the sub process's subscriber is in /dev/shm (its explicit ready signal); fails if it exits first.</summary>
    private static async Task WaitForSubscriberAsync(string topic, ToolProcess subscriber)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < ToolProcess.SafetyTimeout)
        {
            if (TopicInspector.TryGetTopic(topic, out TopicInfo? info) && info.Subscribers.Any(s => s.Pid == subscriber.Id))
            {
                return;
            }
            if (subscriber.HasExited)
            {
                Assert.Fail($"zerolane sub exited before subscribing.\n{await subscriber.WaitAsync()}");
            }
            await Task.Delay(20);
        }
        Assert.Fail($"zerolane sub did not subscribe to '{topic}' within {ToolProcess.SafetyTimeout.TotalSeconds} s.");
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
