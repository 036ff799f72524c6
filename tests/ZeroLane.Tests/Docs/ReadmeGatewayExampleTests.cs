using System.Diagnostics;
using System.Text.RegularExpressions;
using ZeroLane.Nats;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Tests.Nats;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Docs;

/// <summary>
/// The README's "Across hosts" C# example is this file's <see cref="GatewayExample"/>, run against a real nats-server; and
/// every node configuration of docs/examples/nats-cluster is one nats-server accepts.
/// </summary>
public sealed class ReadmeGatewayExampleTests
{
    [Fact]
    public async Task GatewayExampleRunsAsWritten()
    {
        Prerequisites.NatsServer.Require();
        using NatsServerProcess server = NatsServerProcess.Start();
        string topic = "camera.rd" + Guid.NewGuid().ToString("N")[..10];
        using var publisher = new Publisher(topic);
        var output = new StringWriter();
        await GatewayExample(server.Url, topic, output);
        Assert.Equal("exporting 1 topics", output.ToString().Trim());
    }

    [Fact]
    public void ReadmeShowsTheGatewayExampleOfThisFile()
    {
        string root = ReadmeQuickStartTests.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string block = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(match => match.Groups[1].Value).Single(text => text.StartsWith("using ZeroLane.Nats;", StringComparison.Ordinal));
        string source = File.ReadAllText(Path.Combine(root, "tests/ZeroLane.Tests/Docs/ReadmeGatewayExampleTests.cs"));
        string body = Regex.Match(source, @"// gateway example begins\n(.*?)\s*// gateway example ends", RegexOptions.Singleline).Groups[1].Value;
        string expected = block.Replace("using ZeroLane.Nats;\n", "")
            .Replace("\"nats://nats-1:4222,nats://nats-2:4222\"", "urls")
            .Replace("[\"camera.*\", \"lidar\"]", "[\"camera.*\", \"lidar\", topic]")
            .Replace("Console.WriteLine", "output.WriteLine");
        Assert.Equal(Normalize(expected), Normalize(body));
    }

    [Theory]
    [InlineData("node1.conf")]
    [InlineData("node2.conf")]
    [InlineData("node3.conf")]
    public async Task TheExampleClusterConfigurationIsValid(string file)
    {
        Prerequisites.NatsServer.Require();
        var start = new ProcessStartInfo("/usr/sbin/nats-server", ["-t", "-c", Path.Combine(ReadmeQuickStartTests.RepositoryRoot(), "docs/examples/nats-cluster", file)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ZEROLANE_NATS_PASSWORD"] = "example";
        using Process check = Process.Start(start)!;
        string said = await check.StandardError.ReadToEndAsync() + await check.StandardOutput.ReadToEndAsync();
        await check.WaitForExitAsync();
        Assert.True(check.ExitCode == 0, said);
        Assert.Contains("is valid", said);
    }

    private static async Task GatewayExample(string urls, string topic, TextWriter output)
    {
        // gateway example begins
        await using NatsGateway gateway = await NatsGateway.StartAsync(
            NatsEndpoint.Parse(urls),
            new NatsGatewayOptions { Topics = ["camera.*", "lidar", topic] });
        output.WriteLine($"exporting {gateway.Statistics.ExportedTopics.Count} topics");
        // gateway example ends
    }

    private static string Normalize(string text) => string.Join('\n', text.Split('\n')
        .Select(line => Regex.Replace(line.Trim(), " +", " ")).Where(line => line.Length > 0));
}
