using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Duplex.Service;

/// <summary>
/// <c>zerolane ls</c> and <c>zerolane topics</c> list each service with its process and client count, and <c>ls</c>
/// lists each client's two rings as buffers named after the service.
/// </summary>
public sealed class ServicesAreListedByLsAndTopics : ServiceTest
{
    [Fact]
    public async Task LsAndTopicsShowTheServiceWithItsClientsAndLsShowsTheirRings()
    {
        string name = NewService();
        using DuplexService service = StartEchoService(name);
        (_, string first) = StartJoinedClientPeer(name, "--hold");
        (_, string second) = StartJoinedClientPeer(name, "--hold");
        Assert.True(SpinWait.SpinUntil(() => service.ClientCount == 2, HangGuard), $"clients served: {service.ClientCount}");

        Assert.True(DuplexServiceInspector.TryGetService(name, out DuplexServiceInfo? info));
        Assert.Equal(Environment.ProcessId, info.Pid);
        Assert.True(info.Alive);
        Assert.Equal(2, info.ClientCount);
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), info.Clients.Select(c => c.Channel));
        Assert.All(info.Clients, c => Assert.True(c.Alive && !c.Joining));

        ToolResult ls = await ToolProcess.RunAsync("ls");
        ToolResult topics = await ToolProcess.RunAsync("topics");

        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.True(topics.ExitCode == 0, topics.ToString());
        foreach (ToolResult result in new[] { ls, topics })
        {
            string row = Assert.Single(result.Output.Split('\n'), line => line.StartsWith(name + " ", StringComparison.Ordinal));
            Assert.Matches($@"^{name} +{Environment.ProcessId} \(alive\) +2 +\d+ \(alive\), \d+ \(alive\) +zls\.{name}\.c\.PID\.ID_request, _response$", row.TrimEnd());
        }
        foreach (string channel in new[] { first, second })
        {
            Assert.Contains(ls.Output.Split('\n'), line => line.StartsWith(channel + "_request ", StringComparison.Ordinal));
            Assert.Contains(ls.Output.Split('\n'), line => line.StartsWith(channel + "_response ", StringComparison.Ordinal));
        }
    }
}
