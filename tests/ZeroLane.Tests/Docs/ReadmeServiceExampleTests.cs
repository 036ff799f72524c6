using System.Text.RegularExpressions;
using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Docs;

/// <summary>The README's duplex service example is this file's <see cref="ServiceExample"/>, compiled and run.</summary>
public sealed class ReadmeServiceExampleTests : BufferTest
{
    [Fact]
    public void ServiceExampleRunsAsWritten()
    {
        string name = NewName("readme-svc");
        var output = new StringWriter();
        try
        {
            ServiceExample(name, output);
        }
        finally
        {
            // /dev/shm only: the lock files live in the shared lock directory, which other tests' readers sweep concurrently.
            foreach (string path in Directory.GetFiles("/dev/shm", $"*zls.{name}.*"))
            {
                File.Delete(path);
            }
        }
        Assert.Equal(["alice: 6 bytes", "bob: 7 bytes"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(Directory.GetFiles("/dev/shm", $"*zls.{name}.*"));
    }

    [Fact]
    public void ReadmeShowsTheServiceExampleOfThisFile()
    {
        string readme = File.ReadAllText(Path.Combine(ReadmeQuickStartTests.RepositoryRoot(), "README.md"));
        string block = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(match => match.Groups[1].Value).Single(text => text.StartsWith("using var service = new DuplexService(", StringComparison.Ordinal));
        string source = File.ReadAllText(Path.Combine(ReadmeQuickStartTests.RepositoryRoot(), "tests/ZeroLane.Tests/Docs/ReadmeServiceExampleTests.cs"));
        string body = Regex.Match(source, @"// service example begins\n(.*?)\s*// service example ends", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(Normalize(block.Replace("\"ocr\"", "name").Replace("Console.WriteLine", "output.WriteLine")), Normalize(body));
    }

    private static void ServiceExample(string name, TextWriter output)
    {
        // service example begins
        using var service = new DuplexService(name, request => request.Span);   // one handler for every client
        using var alice = DuplexService.Connect(name, TimeSpan.FromSeconds(5)); // a DuplexClient on a channel of its own
        using var bob = DuplexService.Connect(name, TimeSpan.FromSeconds(5));   // in any process, at any time

        using (Frame answer = alice.Request("page 1"u8, TimeSpan.FromSeconds(1)))
        {
            output.WriteLine($"alice: {answer.Length} bytes");
        }
        using (Frame answer = bob.Request("page 22"u8, TimeSpan.FromSeconds(1)))
        {
            output.WriteLine($"bob: {answer.Length} bytes");
        }
        // service example ends
    }

    /// <summary>Lines trimmed at both ends, blank lines dropped, runs of spaces made one (comments aligned differently compare equal).</summary>
    private static string Normalize(string code) =>
        string.Join('\n', code.Split('\n').Select(line => Regex.Replace(line.Trim(), " +", " ")).Where(line => line.Length > 0));
}
