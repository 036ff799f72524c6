using System.Text.Json;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Tests.Topics;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Cli;

/// <summary><c>zerolane topics</c>: the table and the JSON lines show the same publishers and subscribers as <see cref="TopicInspector"/>.</summary>
public sealed class TopicsCommandShowsWhatTheInspectorSees : TopicTest
{
    [Fact]
    public async Task TopicsJsonParsesAndMatchesThePublisherAndSubscriberOfATopic()
    {
        string topic = NewTopic("cli-topics");
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSampleSize = 1000, QueueDepth = 4 });
        using var subscriber = new Subscriber(topic);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");
        for (int i = 0; i < 3; i++)
        {
            publisher.Write("sample"u8, Safety.Timeout);
        }
        subscriber.Read(Safety.Timeout).Dispose();

        ToolResult result = await ToolProcess.RunAsync("topics", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement[] topics = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        JsonElement ours = Assert.Single(topics, t => t.GetProperty("topic").GetString() == topic);
        JsonElement published = Assert.Single(ours.GetProperty("publishers").EnumerateArray());
        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? info));
        TopicPublisherInfo expected = Assert.Single(info.Publishers);
        Assert.Equal(expected.Segment, published.GetProperty("segment").GetString());
        Assert.Equal(Environment.ProcessId, published.GetProperty("pid").GetInt32());
        Assert.Equal(publisher.Id.ToString("x16"), published.GetProperty("id").GetString());
        Assert.True(published.GetProperty("alive").GetBoolean());
        Assert.Equal("open", published.GetProperty("state").GetString());
        Assert.Equal(3UL, published.GetProperty("samplesPublished").GetUInt64());
        Assert.Equal(expected.Slots, published.GetProperty("slots").GetInt32());
        Assert.Equal(expected.MaxSampleSize, published.GetProperty("maxSampleSize").GetInt64());
        Assert.False(published.TryGetProperty("error", out _));
        JsonElement entry = Assert.Single(published.GetProperty("subscribers").EnumerateArray());
        Assert.Equal(subscriber.Id.ToString("x16"), entry.GetProperty("id").GetString());
        Assert.Equal(Environment.ProcessId, entry.GetProperty("pid").GetInt32());
        Assert.Equal("active", entry.GetProperty("state").GetString());
        Assert.Equal(2, entry.GetProperty("queued").GetInt32());
        Assert.Equal(4, entry.GetProperty("queueDepth").GetInt32());
        Assert.Equal(0UL, entry.GetProperty("dropped").GetUInt64());
        Assert.Equal("drop", entry.GetProperty("overflow").GetString());
        JsonElement process = Assert.Single(ours.GetProperty("subscribers").EnumerateArray());
        Assert.Equal(subscriber.Id.ToString("x16"), process.GetProperty("id").GetString());
        Assert.True(process.GetProperty("alive").GetBoolean());
    }

    [Fact]
    public async Task TopicsShowsAPublisherRowAndASubscriberRowUnderIt()
    {
        string topic = NewTopic("cli-topicstable");
        using var publisher = new Publisher(topic);
        using var subscriber = new Subscriber(topic);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");

        ToolResult result = await ToolProcess.RunAsync("topics");

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] rows = result.Output.Split('\n').Where(line => line.StartsWith(topic + " ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Matches($@"publisher +{Environment.ProcessId} \(alive\) +{publisher.Id:x16} +open ", rows[0]);
        Assert.Matches($@"subscriber +{Environment.ProcessId} \(alive\) +{subscriber.Id:x16} +active .* 0/4 ", rows[1]);
    }

    [Fact]
    public async Task TopicsWatchWithACountPrintsThatManyRefreshesWithRates()
    {
        string topic = NewTopic("cli-topicswatch");
        using var publisher = new Publisher(topic);

        ToolResult result = await ToolProcess.RunAsync("topics", "--watch", "--count", "2", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement[] ours = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(t => t.GetProperty("topic").GetString() == topic)
            .ToArray();
        Assert.Equal(2, ours.Length);
        Assert.False(ours[0].GetProperty("publishers")[0].TryGetProperty("samplesPerSecond", out _));
        Assert.Equal(0, ours[1].GetProperty("publishers")[0].GetProperty("samplesPerSecond").GetDouble());
    }
}
