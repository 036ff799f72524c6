using System.Text;
using System.Text.RegularExpressions;
using ZeroLane.Buffers;
using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Docs;

/// <summary>The README's C# quick start is this file's <see cref="QuickStart"/>, compiled and run.</summary>
public sealed class ReadmeQuickStartTests : BufferTest
{
    [Fact]
    public async Task QuickStartRunsAsWritten()
    {
        string name = NewName("readme");
        var output = new StringWriter();
        await QuickStart(name, output);
        Assert.Equal(
            ["frame 1: 3 bytes, first byte 1", "frame 2: 6220800 bytes", "{\"width\":1920,\"height\":1080,\"format\":\"rgb24\"}"],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ReadmeShowsTheQuickStartOfThisFile()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        string block = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests/ZeroLane.Tests/Docs/ReadmeQuickStartTests.cs"));
        string body = Regex.Match(source, @"// quick start begins\n(.*?)\s*// quick start ends", RegexOptions.Singleline).Groups[1].Value;
        string expected = Normalize(block.Replace("using System.Text;\nusing ZeroLane;\nusing ZeroLane.Buffers;\n", "")
            .Replace("\"camera-0\"", "name").Replace("Console.WriteLine", "output.WriteLine"));
        Assert.Equal(expected, Normalize(body));
    }

    [Fact]
    public void MessagesExampleRunsAsWritten()
    {
        string name = NewName("readme-msg");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 32 << 20 });
        using var writer = new RingWriter(name);
        Assert.Equal(6_220_800, MessagesExample(reader, writer));
    }

    [Fact]
    public void ReadmeShowsTheMessagesExampleOfThisFile()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        string block = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline)[1].Groups[1].Value;
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests/ZeroLane.Tests/Docs/ReadmeQuickStartTests.cs"));
        string body = Regex.Match(source, @"// messages example begins\n(.*?)\s*// messages example ends", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(Normalize(block.Replace("using ZeroLane.Messages;\n", "")), Normalize(body));
    }

    [Fact]
    public void ReusedBuilderExampleRunsAsWritten()
    {
        string name = NewName("readme-reuse");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        ReusedBuilderExample(writer);
        for (int i = 0; i < 3; i++)
        {
            using Message message = reader.ReadMessage(TimeSpan.FromSeconds(1));
            Assert.Equal("{\"camera\":0}"u8.ToArray(), message.Body.ToArray());
            Assert.Equal(2, message.PartCount);
            Assert.Equal(8192, message.Length - message.Body.Length);
        }
    }

    [Fact]
    public void ReadmeShowsTheReusedBuilderExampleOfThisFile()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        string block = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(match => match.Groups[1].Value).Single(text => text.StartsWith("byte[] header = ", StringComparison.Ordinal));
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests/ZeroLane.Tests/Docs/ReadmeQuickStartTests.cs"));
        string body = Regex.Match(source, @"// reused builder example begins\n(.*?)\s*// reused builder example ends", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(Normalize(block), Normalize(body));
    }

    private static void ReusedBuilderExample(RingWriter writer)
    {
        // reused builder example begins
        byte[] header = "{\"camera\":0}"u8.ToArray(), left = new byte[4096], right = new byte[4096];
        var builder = new MessageBuilder();                              // one per sending thread, reused for every message
        for (int i = 0; i < 3; i++)
        {
            builder.Reset();
            builder.WithBody(header).AddPart(left).AddPart(right);
            using Message message = builder.Build();                     // the last round's disposed message, refilled
            writer.WriteMessage(message, TimeSpan.FromSeconds(1));
        }
        // reused builder example ends
    }

    [Fact]
    public void TopicsExampleRunsAsWritten()
    {
        string topic = NewName("readme-topic");
        var output = new StringWriter();
        try
        {
            TopicsExample(topic, output);
        }
        finally
        {
            foreach (string path in Directory.GetFiles("/dev/shm", $"*zlt.{topic}.*"))
            {
                File.Delete(path);
            }
        }
        Assert.Equal(["sample 1: 6 bytes from publisher True", "sample 2: 6 bytes from publisher True"],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(Directory.GetFiles("/dev/shm", $"*zlt.{topic}.*"));
    }

    [Fact]
    public void ReadmeShowsTheTopicsExampleOfThisFile()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        string block = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(match => match.Groups[1].Value).Single(text => text.StartsWith("using ZeroLane.Topics;", StringComparison.Ordinal));
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests/ZeroLane.Tests/Docs/ReadmeQuickStartTests.cs"));
        string body = Regex.Match(source, @"// topics example begins\n(.*?)\s*// topics example ends", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(Normalize(block.Replace("using ZeroLane.Topics;\n", "").Replace("\"lidar\"", "topic").Replace("Console.WriteLine", "output.WriteLine")), Normalize(body));
    }

    [Fact]
    public void DuplexExampleRunsAsWritten()
    {
        string channel = NewName("readme-duplex");
        var output = new StringWriter();
        try
        {
            DuplexExample(channel, output);
        }
        finally
        {
            TestBuffers.Remove(channel + "_request");
            TestBuffers.Remove(channel + "_response");
        }
        Assert.Equal(["response 1: 6 bytes (Extended mode)", "response 3: 2 bytes"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // /dev/shm only: the lock files live in the shared lock directory, which other tests' readers sweep concurrently.
        Assert.DoesNotContain(TestBuffers.Leftovers(channel + "_request"), path => path.StartsWith("/dev/shm/", StringComparison.Ordinal));
        Assert.DoesNotContain(TestBuffers.Leftovers(channel + "_response"), path => path.StartsWith("/dev/shm/", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadmeShowsTheDuplexExampleOfThisFile()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        string block = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(match => match.Groups[1].Value).Single(text => text.StartsWith("using ZeroLane.Duplex;", StringComparison.Ordinal));
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "tests/ZeroLane.Tests/Docs/ReadmeQuickStartTests.cs"));
        string body = Regex.Match(source, @"// duplex example begins\n(.*?)\s*// duplex example ends", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(Normalize(block.Replace("using ZeroLane.Duplex;\n", "").Replace("\"inference\"", "channel").Replace("Console.WriteLine", "output.WriteLine")),
            Normalize(body));
    }

    private static void DuplexExample(string channel, TextWriter output)
    {
        // duplex example begins
        using var server = new DuplexServer(channel, request => request.Span,    // echo; other handlers write in place,
            new DuplexServerOptions { MaxConcurrency = 4 });                          // change the request in place, or are async
        using var client = DuplexClient.Connect(channel, TimeSpan.FromSeconds(5));

        using (Frame response = client.Request("tile 7"u8, TimeSpan.FromSeconds(1)))  // in place; disposing releases it
        {
            output.WriteLine($"response {response.Sequence}: {response.Length} bytes ({client.Mode} mode)");
        }
        ulong first = client.SendRequest("a"u8, TimeSpan.FromSeconds(1));            // pipelined: several in flight
        ulong second = client.SendRequest("bc"u8, TimeSpan.FromSeconds(1));
        using (Frame answer = client.ReceiveResponse(second, TimeSpan.FromSeconds(1)))  // any order between ZeroLane ends
        {
            output.WriteLine($"response {answer.Sequence}: {answer.Length} bytes");
        }
        client.ReceiveResponse(first, TimeSpan.FromSeconds(1)).Dispose();
        // duplex example ends
    }

    private static void TopicsExample(string topic, TextWriter output)
    {
        // topics example begins
        using var subscriber = new Subscriber(topic);                  // before or after the publisher
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 1 << 20, History = 1 });

        publisher.Write("scan 1"u8, TimeSpan.FromSeconds(1));           // one copy, into shared memory
        using (FrameLoan loan = publisher.Loan(4096))                    // or fill a slot in place
        {
            loan.Span[..6].Fill((byte)'2');
            loan.Commit(6);
        }

        for (int i = 0; i < 2; i++)
        {
            using Sample sample = subscriber.Read(TimeSpan.FromSeconds(1)); // in place; disposing releases it
            output.WriteLine($"sample {sample.Sequence}: {sample.Length} bytes from publisher {sample.PublisherId == publisher.Id}");
        }
        // topics example ends
    }

    private static int MessagesExample(RingReader reader, RingWriter writer)
    {
        // messages example begins
        byte[] pixels = new byte[6_220_800];
        using Message outgoing = Message.CreateBuilder().WithBody("{\"camera\":0}"u8.ToArray()).AddPart(pixels).Build();
        writer.WriteMessage(outgoing, TimeSpan.FromSeconds(1));          // one ring frame: header, body, pixels

        using Message incoming = reader.ReadMessage(TimeSpan.FromSeconds(1));
        ReadOnlyMemory<byte> received = incoming.GetPart(0);             // in place in shared memory, no copy
        // messages example ends
        return received.Length;
    }

    private static async Task QuickStart(string name, TextWriter output)
    {
        // quick start begins
        // The reader creates and owns the buffer: 4 KiB metadata block, 64 MiB payload block.
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 4096, PayloadSize = 64 << 20 });

        // The writer (usually another process) connects to it.
        using var writer = new RingWriter(name);
        writer.SetMetadata(Encoding.UTF8.GetBytes("{\"width\":1920,\"height\":1080,\"format\":\"rgb24\"}"));

        // Copy-in write ...
        writer.Write(new byte[] { 1, 2, 3 });

        // ... or fill the frame in place: loan, fill, commit what you wrote.
        using (FrameLoan loan = writer.Loan(6_220_800))
        {
            loan.Span.Fill(0x7F);
            loan.Commit(6_220_800);
        }

        // Frames are read in place; disposing a frame gives its space back to the writer.
        using (Frame frame = reader.Read(TimeSpan.FromSeconds(5)))
        {
            output.WriteLine($"frame {frame.Sequence}: {frame.Length} bytes, first byte {frame.Span[0]}");
        }
        await foreach (Frame frame in reader.ReadAllAsync())   // until the writer disconnects
        {
            output.WriteLine($"frame {frame.Sequence}: {frame.Length} bytes");
            if (frame.Sequence == 2) writer.Dispose();
        }
        output.WriteLine(Encoding.UTF8.GetString(reader.GetMetadata()));
        // quick start ends
    }

    private static string Normalize(string code) =>
        string.Join('\n', code.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));

    internal static string RepositoryRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "ZeroLane.slnx")))
        {
            directory = Path.GetDirectoryName(directory);
        }
        return directory ?? throw new InvalidOperationException("Run the tests from inside the repository.");
    }
}
