using System.Buffers;
using NATS.Client.Core;

namespace ZeroLane.Nats;

/// <summary>
/// A NATS subscription that hands each message's raw header block and payload to an <see cref="ImportedTopic"/> on
/// NATS.Net's read loop, so the payload is copied once, straight from NATS.Net's receive buffer into a shared-memory loan.
/// </summary>
internal sealed class GatewaySubscription : NatsSubBase
{
    private readonly ImportedTopic _target;

    internal GatewaySubscription(NatsConnection connection, string subject, ImportedTopic target)
        : base(connection, connection.SubscriptionManager, subject, queueGroup: null, opts: null)
    {
        _target = target;
    }

    protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
    {
        _target.Receive(headersBuffer, payloadBuffer);
        return ValueTask.CompletedTask;
    }

    protected override void TryComplete()
    {
    }
}
