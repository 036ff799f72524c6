using System.Text.RegularExpressions;
using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Tests.Docs;

/// <summary>The README's example of calls over sockets is this file's <see cref="SocketCallsExample"/>, compiled and run.</summary>
public sealed class ReadmeSocketCallsExampleTests
{
    [Fact]
    public async Task SocketCallsExampleRunsAsWritten()
    {
        var output = new StringWriter();
        await SocketCallsExample(output).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Repeat("answer: 6 + 1048576 bytes", 4), output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ReadmeShowsTheSocketCallsExampleOfThisFile()
    {
        string readme = File.ReadAllText(Path.Combine(ReadmeQuickStartTests.RepositoryRoot(), "README.md"));
        string block = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(match => match.Groups[1].Value).Single(text => text.StartsWith("using ZeroLane.Messages.Transport;", StringComparison.Ordinal));
        string source = File.ReadAllText(Path.Combine(ReadmeQuickStartTests.RepositoryRoot(), "tests/ZeroLane.Tests/Docs/ReadmeSocketCallsExampleTests.cs"));
        string body = Regex.Match(source, @"// socket calls example begins\n(.*?)\s*// socket calls example ends", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(Normalize(block.Replace("using ZeroLane.Messages.Transport;\nusing ZeroLane.Messages;\nusing ZeroLane.Duplex;\n", "").Replace("Console.WriteLine", "output.WriteLine")),
            Normalize(body));
    }

    private static async Task SocketCallsExample(TextWriter output)
    {
        // socket calls example begins
        var listener = MessageListener.ListenTcp(0);        // loopback, a free port; name an address to serve other hosts
        await using var server = new DuplexSocketServer(listener, request => request);      // echo; the server owns the listener
        await using var client = await DuplexSocketClient.ConnectTcpAsync("127.0.0.1", listener.Port, TimeSpan.FromSeconds(5));

        using Message question = Message.Create("tile 7"u8.ToArray(), new byte[1 << 20]);  // a body and a 1 MiB part
        Task<Message>[] calls = [.. Enumerable.Range(0, 4).Select(_ => client.RequestAsync(question, TimeSpan.FromSeconds(5)).AsTask())];
        foreach (Message answer in await Task.WhenAll(calls))                                // four in flight on one connection
        {
            using (answer)
            {
                output.WriteLine($"answer: {answer.Body.Length} + {answer.GetPart(0).Length} bytes");
            }
        }
        // socket calls example ends
    }

    private static string Normalize(string code) =>
        string.Join('\n', code.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));
}
