using NATS.Client.Core;
using ZeroLane.Nats;
using Xunit;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// What the gateway will rely on from a NATS cluster (issue 13, point 5): three real nats-server nodes routed on
/// loopback; a client given every node's URL carries on through another node when its own is killed, and its
/// subscription follows it. No timing is asserted: the waits are hang guards.
/// </summary>
public sealed class NatsClusterFailover
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ASubscriberOnAKilledNodeReconnectsToAnotherAndKeepsReceiving()
    {
        NatsServerProcess[] nodes = NatsServerProcess.StartCluster(3);
        try
        {
            string urls = string.Join(",", nodes.Select(node => node.Url));
            using var guard = new CancellationTokenSource(s_hangGuard);
            // The subscriber starts on node 0 (first URL, no shuffling); the publisher sits on node 2.
            await using var subscriber = new NatsConnection(new NatsOpts { Url = urls, Name = "zltest-sub", NoRandomize = true });
            await using var publisher = new NatsConnection(new NatsOpts { Url = nodes[2].Url, Name = "zltest-pub" });
            string subject = NatsSubjects.ForTopic("camera.front");
            await using INatsSub<string> subscription = await subscriber.SubscribeCoreAsync<string>(subject, cancellationToken: guard.Token);
            await subscriber.PingAsync(guard.Token);

            Assert.Equal("before", await PublishUntilReceived(publisher, subscription, subject, "before", guard.Token));

            nodes[0].Kill();
            // Interest travels between nodes asynchronously: publish until the subscriber, now on node 1, has it.
            Assert.Equal("after", await PublishUntilReceived(publisher, subscription, subject, "after", guard.Token));
            Assert.NotEqual(nodes[0].Port, subscriber.ServerInfo?.Port);
        }
        finally
        {
            NatsServerProcess.DisposeAll(nodes);
        }
    }

    /// <summary>Publishes <paramref name="text"/> again and again until the subscription yields it; earlier texts are skipped.</summary>
    private static async Task<string> PublishUntilReceived(NatsConnection publisher, INatsSub<string> subscription, string subject, string text,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            await publisher.PublishAsync(subject, text, cancellationToken: cancellationToken);
            using var look = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            look.CancelAfter(TimeSpan.FromMilliseconds(200));
            try
            {
                while (true)
                {
                    NatsMsg<string> message = await subscription.Msgs.ReadAsync(look.Token);
                    if (message.Data == text)
                    {
                        return text;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Nothing yet (the route or the reconnect is still settling): publish again.
            }
        }
    }
}
