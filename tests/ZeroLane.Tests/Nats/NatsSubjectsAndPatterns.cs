using System.Buffers;
using System.Text;
using NATS.Client.Core;
using ZeroLane.Nats;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// The first building blocks of the NATS gateway (issue 13): a topic's subject and back, the patterns that select
/// topics, and what the gateway relies on from NATS.Net and nats-server, checked against a real server.
/// </summary>
public sealed class NatsSubjectsAndPatterns
{
    [Theory]
    [InlineData("camera", "zerolane.camera")]
    [InlineData("camera.front.frames", "zerolane.camera.front.frames")]
    [InlineData("lidar_2-raw", "zerolane.lidar_2-raw")]
    public void ATopicTravelsOnTheSubjectBehindThePrefixAndComesBack(string topic, string subject)
    {
        Assert.Equal(subject, NatsSubjects.ForTopic(topic));
        Assert.True(NatsSubjects.TryGetTopic(subject, out string? back));
        Assert.Equal(topic, back);
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData("camera.")]
    public void ATopicWithAnEmptyTokenIsRefusedWithWhatToDo(string topic)
    {
        var refused = Assert.Throws<ArgumentException>(() => NatsSubjects.ForTopic(topic));
        Assert.Contains("Rename the topic", refused.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("a b")]
    public void AnInvalidTopicNameIsAnInvalidNameException(string topic) =>
        Assert.Throws<InvalidNameException>(() => NatsSubjects.ForTopic(topic));

    [Theory]
    [InlineData("other.camera")]
    [InlineData("zerolane.")]
    [InlineData("zerolane.a..b")]
    [InlineData("zerolane.a b")]
    public void OnlyGatewaySubjectsOfValidTopicsAreTopics(string subject) =>
        Assert.False(NatsSubjects.TryGetTopic(subject, out _));

    [Theory]
    [InlineData("camera.*", "camera.front", true)]
    [InlineData("camera.*", "camera", false)]
    [InlineData("camera.*", "camera.front.frames", false)]
    [InlineData("camera.>", "camera.front.frames", true)]
    [InlineData("camera.>", "camera", false)]
    [InlineData(">", "anything.at.all", true)]
    [InlineData("*.frames", "left.frames", true)]
    [InlineData("*.frames", "left.depth", false)]
    [InlineData("lidar", "lidar", true)]
    [InlineData("lidar", "lidar2", false)]
    public void APatternSelectsTopicsTokenByToken(string pattern, string topic, bool selected)
    {
        TopicPattern parsed = TopicPattern.Parse(pattern);
        Assert.Equal(selected, parsed.Matches(topic));
        Assert.Equal(NatsSubjects.Prefix + pattern, parsed.Subject);
    }

    [Theory]
    [InlineData("camera..front", "empty token")]
    [InlineData(".camera", "empty token")]
    [InlineData("camera.>.x", "before its last token")]
    [InlineData("cam*.front", "neither a wildcard")]
    [InlineData("camera/front", "neither a wildcard")]
    public void ABadPatternSaysWhatIsWrong(string pattern, string problem) =>
        Assert.Contains(problem, Assert.Throws<ArgumentException>(() => TopicPattern.Parse(pattern)).Message);

    [Fact]
    public async Task ARealServerDeliversASegmentedPayloadWithHeadersOnATopicsSubjectToAPatternSubscriber()
    {
        // What the gateway's send side relies on: NATS.Net takes the payload as a ReadOnlySequence of several segments
        // (the sample's parts, never joined), and the subscriber of a pattern's subject gets it whole, headers included.
        using NatsServerProcess server = NatsServerProcess.Start();
        await using var publisher = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-pub" });
        await using var subscriber = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-sub" });
        TopicPattern pattern = TopicPattern.Parse("camera.>");
        await using INatsSub<byte[]> subscription = await subscriber.SubscribeCoreAsync<byte[]>(pattern.Subject);
        await subscriber.PingAsync();

        byte[] first = Encoding.ASCII.GetBytes("body|");
        byte[] second = new byte[100_000];
        new Random(7).NextBytes(second);
        ReadOnlySequence<byte> payload = SequenceBuilder.From(first, second);
        var headers = new NatsHeaders { ["zl-parts"] = "5,100000" };
        await publisher.PublishAsync(NatsSubjects.ForTopic("camera.front"), payload, headers);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        NatsMsg<byte[]> received = await subscription.Msgs.ReadAsync(timeout.Token);
        Assert.True(NatsSubjects.TryGetTopic(received.Subject, out string? topic));
        Assert.Equal("camera.front", topic);
        Assert.Equal("5,100000", received.Headers!["zl-parts"].ToString());
        Assert.NotNull(received.Data);
        Assert.Equal([.. first, .. second], received.Data);
    }
}
