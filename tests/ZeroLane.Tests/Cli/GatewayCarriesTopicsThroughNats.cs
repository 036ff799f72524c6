using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using ZeroLane.Nats;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Tests.Nats;
using ZeroLane.Topics;
using Xunit;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// <c>zerolane gateway</c> as a process against a real nats-server: it exports a local topic until SIGTERM, says what it
/// carries and prints its figures at the end; wrong input and unreachable servers are one-line errors.
/// </summary>
public sealed class GatewayCarriesTopicsThroughNats
{
    [Fact]
    public async Task TheGatewayPublishesALocalTopicsSamplesToNatsAndPrintsItsFiguresWhenStopped()
    {
        Prerequisites.NatsServer.Require();
        using NatsServerProcess server = NatsServerProcess.Start();
        string topic = "cli" + Guid.NewGuid().ToString("N")[..12];
        await using var watcher = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-watcher" });
        await using INatsSub<byte[]> raw = await watcher.SubscribeCoreAsync<byte[]>(NatsSubjects.ForTopic(topic));
        await watcher.PingAsync();
        using var publisher = new Publisher(topic);
        using ToolProcess gateway = ToolProcess.Start("gateway", "--nats", server.Url, "--topic", topic, "--stats", "0", "--name", "zltest-cli-gateway");
        try
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            byte[] sample = "frame"u8.ToArray();
            while (!raw.Msgs.TryRead(out NatsMsg<byte[]> message))
            {
                // Until the gateway has joined the topic and carried one sample.
                Assert.False(gateway.HasExited, "the gateway exited early");
                publisher.Write(sample, TimeSpan.FromSeconds(10));
                await Task.Delay(50, guard.Token);
            }
        }
        finally
        {
            using Process kill = Process.Start("kill", ["-s", "TERM", gateway.Id.ToString(CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }
        ToolResult result = await gateway.WaitAsync();
        Assert.Contains($"exporting {topic}\n", result.Output);
        string stats = result.Output.Split('\n').Last(line => line.StartsWith("stats ", StringComparison.Ordinal));
        Assert.Matches(@"\bsent=[1-9]", stats);
        Assert.Contains("lost=0 ", stats);
        Assert.Contains("Gateway 'zltest-cli-gateway'", result.Error);
    }

    [Fact]
    public async Task AnUnreachableServerIsAOneLineError()
    {
        ToolResult result = await ToolProcess.RunAsync("gateway", "--nats", "nats://127.0.0.1:1", "--topic", "camera.*", "--connect-timeout", "1");
        ToolProcess.AssertOneLineError(result, "Could not reach any NATS server (nats://127.0.0.1:1)");
    }

    [Theory]
    [InlineData("camera..front", "empty token")]
    [InlineData("camera.>.x", ">")]
    public async Task ABadPatternIsAOneLineErrorBeforeAnyConnection(string pattern, string expected)
    {
        ToolResult result = await ToolProcess.RunAsync("gateway", "--nats", "nats://127.0.0.1:1", "--topic", pattern);
        ToolProcess.AssertOneLineError(result, expected);
    }

    [Fact]
    public async Task ReplayWithoutDurableIsAOneLineError()
    {
        ToolResult result = await ToolProcess.RunAsync("gateway", "--nats", "nats://127.0.0.1:1", "--topic", "a", "--replay", "5");
        ToolProcess.AssertOneLineError(result, "--replay needs --durable");
    }
}
