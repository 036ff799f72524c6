using System.Diagnostics;
using System.Globalization;
using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// <c>zerolane serve</c> and <c>zerolane call</c> as real child processes: a duplex channel carries requests and their
/// answers, a failed request is one line, and a server stopped by SIGTERM leaves neither ring behind.
/// </summary>
public sealed class ServeAndCallAnswerRequests : BufferTest
{
    private readonly string _directory = Directory.CreateTempSubdirectory("zltest-serve-").FullName;
    private readonly List<string> _channels = [];
    private readonly List<ToolProcess> _servers = [];

    [Fact]
    public async Task EchoAnswersAFileWithItsOwnBytes()
    {
        string channel = NewChannel("cli-echo");
        byte[] data = new byte[300_000];
        new Random(12).NextBytes(data);
        string input = Path.Combine(_directory, "request.bin");
        await File.WriteAllBytesAsync(input, data);
        ToolProcess server = await StartServerAsync(channel, "--echo", "--payload-size", "1M");

        ToolResult called = await ToolProcess.RunAsync("call", channel, "--in", input, "--payload-size", "1M");

        Assert.True(called.ExitCode == 0, called.ToString());
        Assert.True(data.AsSpan().SequenceEqual(called.OutputBytes), $"the answer differs: {called.OutputBytes.Length} bytes for {data.Length}.");
        Assert.Contains("1 call of ", called.Error);
        await StopServerAsync(channel, server);
    }

    [Fact]
    public async Task ConcurrencyRunsSeveralCommandsAtOnceForAPipeliningClient()
    {
        string channel = NewChannel("cli-conc");
        // Each command marks its request's name, then waits until both marks exist: only commands running at once finish.
        string command = $"d={_directory}; r=$(cat); touch \"$d/$r\"; while [ ! -e \"$d/a\" ] || [ ! -e \"$d/b\" ]; do sleep 0.02; done; echo \"done $r\"";
        ToolProcess server = await StartServerAsync(channel, "--exec", command, "--concurrency", "2");

        using (var client = ZeroLane.Duplex.DuplexClient.Connect(channel, TimeSpan.FromSeconds(30)))
        {
            ulong a = client.SendRequest("a"u8, TimeSpan.FromSeconds(30));
            ulong b = client.SendRequest("b"u8, TimeSpan.FromSeconds(30));
            using (Frame answer = client.ReceiveResponse(b, TimeSpan.FromSeconds(60)))
            {
                Assert.Equal("done b\n"u8, answer.Span);
            }
            using (Frame answer = client.ReceiveResponse(a, TimeSpan.FromSeconds(60)))
            {
                Assert.Equal("done a\n"u8, answer.Span);
            }
        }
        await StopServerAsync(channel, server);
    }

    [Fact]
    public async Task CallWithACountPrintsRoundTripTimesAndNoAnswer()
    {
        string channel = NewChannel("cli-count");
        ToolProcess server = await StartServerAsync(channel, "--echo");

        ToolResult called = await ToolProcess.RunAsync(["call", channel, "--count", "5"], "ping"u8.ToArray());

        Assert.True(called.ExitCode == 0, called.ToString());
        Assert.Empty(called.OutputBytes);
        Assert.Matches(@"^5 calls of 4 B: round trip min \S+ \S+, p50 \S+ \S+, p99 \S+ \S+, max \S+ \S+$", called.Error.Trim());
        await StopServerAsync(channel, server);
    }

    [Fact]
    public async Task ExecAnswersWithTheCommandsOutput()
    {
        string channel = NewChannel("cli-exec");
        ToolProcess server = await StartServerAsync(channel, "--exec", "tr a-z A-Z");

        ToolResult first = await ToolProcess.RunAsync(["call", channel], "hello, world\n"u8.ToArray());
        ToolResult second = await ToolProcess.RunAsync(["call", channel], "again"u8.ToArray());

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("HELLO, WORLD\n", first.Output);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal("AGAIN", second.Output);
        await StopServerAsync(channel, server);
    }

    [Fact]
    public async Task ACommandThatFailsFailsTheCallWithOneLine()
    {
        string channel = NewChannel("cli-fail");
        ToolProcess server = await StartServerAsync(channel, "--exec", "cat >/dev/null; echo broken tile >&2; exit 3");

        ToolResult called = await ToolProcess.RunAsync(["call", channel], "tile"u8.ToArray());

        ToolProcess.AssertOneLineError(called, "zerolane: the server failed the request: ");
        Assert.Contains("ExecFailed: the command exited with code 3: broken tile", called.Error);
        Assert.Empty(called.OutputBytes);
        // The server goes on serving: the next request is answered (and fails the same way).
        ToolResult again = await ToolProcess.RunAsync(["call", channel], "tile"u8.ToArray());
        ToolProcess.AssertOneLineError(again, "exited with code 3");
        await StopServerAsync(channel, server);
    }

    [Fact]
    public async Task ACommandThatPrintsNothingFailsTheCall()
    {
        string channel = NewChannel("cli-empty");
        ToolProcess server = await StartServerAsync(channel, "--exec", "cat >/dev/null");

        ToolResult called = await ToolProcess.RunAsync(["call", channel], "tile"u8.ToArray());

        ToolProcess.AssertOneLineError(called, "zerolane: the server failed the request: ExecFailed: the command printed nothing");
        await StopServerAsync(channel, server);
    }

    [Fact]
    public async Task CallWithoutAServerSaysWhatToDoAndLeavesNothing()
    {
        string channel = NewChannel("cli-nosrv");

        ToolResult called = await ToolProcess.RunAsync(["call", channel], "x"u8.ToArray());

        ToolProcess.AssertOneLineError(called, $"no server serves duplex channel '{channel}'");
        Assert.Contains($"zerolane serve {channel}", called.Error);
        Assert.Empty(TestBuffers.Leftovers(channel + "_request"));
        Assert.Empty(TestBuffers.Leftovers(channel + "_response"));
    }

    private string NewChannel(string prefix)
    {
        string channel = NewName(prefix);
        _channels.Add(channel);
        return channel;
    }

    private async Task<ToolProcess> StartServerAsync(string channel, params string[] arguments)
    {
        ToolProcess server = ToolProcess.Start(["serve", channel, .. arguments]);
        _servers.Add(server);
        await ToolProcess.WaitForReaderAsync(channel + "_request", server);
        return server;
    }

    /// <summary>Stops the server as a service manager would (SIGTERM) and checks that it removed its ring and the clients'.</summary>
    private static async Task StopServerAsync(string channel, ToolProcess server)
    {
        using (Process kill = Process.Start("kill", ["-s", "TERM", server.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }
        ToolResult stopped = await server.WaitAsync();
        Assert.True(stopped.ExitCode == 143, stopped.ToString());
        Assert.Empty(TestBuffers.Leftovers(channel + "_request"));
        Assert.Empty(TestBuffers.Leftovers(channel + "_response"));
    }

    public override void Dispose()
    {
        foreach (ToolProcess server in _servers)
        {
            server.Dispose();
        }
        foreach (string channel in _channels)
        {
            TestBuffers.Remove(channel + "_request");
            TestBuffers.Remove(channel + "_response");
        }
        Directory.Delete(_directory, recursive: true);
        base.Dispose();
    }
}
