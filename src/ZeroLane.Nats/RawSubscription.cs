using System.Buffers;
using NATS.Client.Core;

namespace ZeroLane.Nats;

/// <summary>Takes NATS messages as NATS.Net's read loop has them: the raw header block and the payload, valid during the call only.</summary>
internal interface IRawMessageReceiver
{
    /// <summary>Handles one message. Runs on NATS.Net's read loop: it must not block (it holds up every subscription of the connection).</summary>
    void Receive(ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload);
}

/// <summary>
/// A NATS subscription that hands each message's raw header block and payload to an <see cref="IRawMessageReceiver"/> on
/// NATS.Net's read loop, so the payload is copied once, straight from NATS.Net's receive buffer into a shared-memory loan.
/// </summary>
internal sealed class RawSubscription : NatsSubBase
{
    private readonly IRawMessageReceiver _receiver;

    internal RawSubscription(NatsConnection connection, string subject, IRawMessageReceiver receiver)
        : base(connection, connection.SubscriptionManager, subject, queueGroup: null, opts: null)
    {
        _receiver = receiver;
    }

    protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
    {
        _receiver.Receive(headersBuffer, payloadBuffer);
        return ValueTask.CompletedTask;
    }

    /// <summary>Unsubscribes (quietly when the connection is gone, since the server forgot the subscription with it) and disposes.</summary>
    internal async ValueTask CloseAsync()
    {
        try
        {
            await UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The connection is gone: the server forgot the subscription with it.
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    protected override void TryComplete()
    {
    }
}
