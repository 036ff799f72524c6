using System.Buffers;
using ZeroLane.Topics;

namespace ZeroLane.Nats;

/// <summary>
/// One topic a gateway imports: its NATS subscription, and per remote publisher (gateway ID, publisher ID) a local
/// publisher, flagged forwarded, with the <see cref="SampleAssembler"/> that rebuilds that publisher's samples into it.
/// Messages arrive on the read loop of the client carrying them (the gateway's own connection or NATS.Net); the
/// gateway's discovery sweeps and closes under the same lock.
/// </summary>
internal sealed class ImportedTopic : IRawMessageReceiver, IAsyncDisposable
{
    private readonly NatsGateway _gateway;
    private readonly object _sync = new();
    private readonly Dictionary<(ulong Gateway, ulong Publisher), Origin> _origins = new();
    private readonly byte[] _headerScratch = new byte[NatsWire.MaxHeaderBlock];
    private RawSubscription? _subscription;
    private int _directSid = -1;
    private readonly CancellationTokenSource _stopConsuming = new();
    private Task _consuming = Task.CompletedTask;
    private long _lostOfClosed;
    private long _noRoomOfClosed;
    private long _staleOfClosed;
    private bool _closed;

    internal ImportedTopic(NatsGateway gateway, string topic, string subject)
    {
        _gateway = gateway;
        Topic = topic;
        Subject = subject;
    }

    internal string Topic { get; }

    internal string Subject { get; }

    internal async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        if (_gateway.JetStream is { } js)
        {
            await DurableTopics.EnsureStreamAsync(js, Topic, _gateway.Options, cancellationToken).ConfigureAwait(false);
            NATS.Client.JetStream.INatsJSConsumer consumer =
                await DurableTopics.GetConsumerAsync(js, _gateway.Name, Topic, _gateway.Options.DurableReplay, cancellationToken).ConfigureAwait(false);
            _consuming = Task.Run(() => ConsumeAsync(consumer, _stopConsuming.Token));
            return;
        }
        if (_gateway.DirectConnection is { } direct)
        {
            _directSid = direct.Subscribe(Subject, this);
            return;
        }
        var subscription = new RawSubscription(_gateway.Connection, Subject, this);
        _subscription = subscription;
        await _gateway.Connection.AddSubAsync(subscription, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A durable gateway's import: every message of the topic's stream through the gateway's durable consumer, taken like
    /// a core NATS message (the payload goes through NATS.Net's pooled buffer first: one copy more than core NATS) and
    /// acknowledged once published or dropped. Redeliveries are stale by sequence and dropped.
    /// </summary>
    private async Task ConsumeAsync(NATS.Client.JetStream.INatsJSConsumer consumer, CancellationToken stop)
    {
        // Batches fetched and processed whole: a gateway that stops finishes its batch (acknowledging every message), so
        // none is left delivered but unacknowledged, to come back out of order after the consumer's acknowledgement wait.
        var fetch = new NATS.Client.JetStream.NatsJSFetchOpts { MaxMsgs = 64, Expires = TimeSpan.FromSeconds(1) };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await foreach (NATS.Client.JetStream.INatsJSMsg<NATS.Client.Core.NatsMemoryOwner<byte>> message in
                    consumer.FetchAsync<NATS.Client.Core.NatsMemoryOwner<byte>>(fetch).ConfigureAwait(false))
                {
                    using (NATS.Client.Core.NatsMemoryOwner<byte> data = message.Data)
                    {
                        Receive(DurableTopics.ToRawBlock(message.Headers), new ReadOnlySequence<byte>(data.Memory));
                    }
                    await message.AckAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _gateway.Counters.LastError = $"Topic '{Topic}': reading its JetStream stream failed ({e.Message}); trying again.";
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Takes one NATS message of the topic (NATS.Net's read loop).</summary>
    public void Receive(ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload)
    {
        GatewayCounters counters = _gateway.Counters;
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }
            if (!NatsSampleHeader.TryParse(headers, _headerScratch, out NatsSampleHeader header, out string? error))
            {
                Reject(counters, 0, error!);
                return;
            }
            if (header.IsZeroLane && header.Gateway == _gateway.Id)
            {
                // Our own message, echoed back (a connection made with echo on): never imported.
                return;
            }
            if (!header.IsZeroLane && payload.IsEmpty)
            {
                return;
            }
            (ulong, ulong) key = header.IsZeroLane ? (header.Gateway, header.Publisher) : (0, 0);
            if (!_origins.TryGetValue(key, out Origin? origin))
            {
                try
                {
                    origin = new Origin(Topic, _gateway.ImportOptionsFor(header.IsZeroLane ? header.Publisher : 0), _gateway.Options);
                }
                catch (Exception e) when (e is ZeroLaneException or IOException or UnauthorizedAccessException)
                {
                    counters.LastError = $"Topic '{Topic}': could not publish samples from another host here: {e.Message}";
                    return;
                }
                _origins[key] = origin;
            }
            if (!header.IsZeroLane)
            {
                // A plain NATS publisher: its message is the sample, as it is, numbered in arrival order.
                header.Sequence = origin.Assembler.LastSequence + 1;
                header.Length = payload.Length;
                header.Timestamp = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
            }
            AssemblyOutcome outcome;
            try
            {
                outcome = origin.Assembler.Accept(header, payload, out error);
            }
            catch (Exception e)
            {
                // Never into NATS.Net's read loop (it would end the subscription): the sample is lost (counted), and said so.
                origin.Assembler.GiveUp();
                outcome = AssemblyOutcome.Dropped;
                counters.LastError = $"Topic '{Topic}': a sample from another host could not be published here: {e.GetType().Name}: {e.Message}";
            }
            if (outcome == AssemblyOutcome.Delivered)
            {
                Interlocked.Increment(ref counters.SamplesReceived);
            }
            else if (outcome == AssemblyOutcome.Rejected)
            {
                Reject(counters, header.Gateway, error ?? "invalid");
            }
            Interlocked.Add(ref counters.BytesReceived, payload.Length);
            origin.PublishLost();
        }
    }

    private void Reject(GatewayCounters counters, ulong gateway, string error)
    {
        Interlocked.Increment(ref counters.Rejected);
        counters.LastError = $"Topic '{Topic}': dropped a message from " +
            (gateway == 0 ? "a NATS publisher" : $"gateway {gateway:x16}") + $": it has {error}.";
    }

    /// <summary>Drops chunked samples waiting too long for their next chunk, and closes the publishers of silent origins.</summary>
    internal void Sweep(TimeSpan chunkTimeout, TimeSpan idleTimeout)
    {
        lock (_sync)
        {
            long now = Environment.TickCount64;
            foreach (((ulong, ulong) key, Origin origin) in _origins.ToArray())
            {
                long quiet = now - origin.Assembler.LastActivity;
                if (origin.Assembler.Assembling && quiet > chunkTimeout.TotalMilliseconds)
                {
                    origin.Assembler.GiveUp();
                    origin.PublishLost();
                }
                if (quiet > idleTimeout.TotalMilliseconds)
                {
                    Close(origin);
                    _origins.Remove(key);
                }
            }
        }
    }

    /// <summary>Samples lost on the way (gaps, torn, no room) and, of them, those dropped for want of room, over every origin so far.</summary>
    internal (long Lost, long NoRoom) LostAndNoRoom()
    {
        lock (_sync)
        {
            long lost = _lostOfClosed, noRoom = _noRoomOfClosed;
            foreach (Origin origin in _origins.Values)
            {
                lost += origin.Assembler.Lost;
                noRoom += origin.Assembler.NoRoom;
            }
            return (lost, noRoom);
        }
    }

    /// <summary>Messages ignored as older than a sample already begun (duplicates, reordering), over every origin so far.</summary>
    internal long Stale()
    {
        lock (_sync)
        {
            return _staleOfClosed + _origins.Values.Sum(origin => origin.Assembler.Stale);
        }
    }

    private void Close(Origin origin)
    {
        origin.Assembler.GiveUp();
        _lostOfClosed += origin.Assembler.Lost;
        _noRoomOfClosed += origin.Assembler.NoRoom;
        _staleOfClosed += origin.Assembler.Stale;
        origin.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _stopConsuming.Cancel();
        await _consuming.ConfigureAwait(false);
        _stopConsuming.Dispose();
        if (_directSid >= 0)
        {
            _gateway.DirectConnection!.Unsubscribe(_directSid);
        }
        if (_subscription is not null)
        {
            await _subscription.CloseAsync().ConfigureAwait(false);
        }
        lock (_sync)
        {
            _closed = true;
            foreach (Origin origin in _origins.Values)
            {
                Close(origin);
            }
            _origins.Clear();
        }
    }

    /// <summary>A remote publisher, and the local publisher its samples go out through.</summary>
    private sealed class Origin : IDisposable
    {
        private static readonly TimeSpan DurableLoanTimeout = TimeSpan.FromSeconds(5);

        private long _lostPublished;

        internal Origin(string topic, PublisherOptions options, NatsGatewayOptions gatewayOptions)
        {
            Publisher = new Publisher(topic, options);
            // Core NATS: never hold up NATS.Net's read loop (no room now = dropped, counted). JetStream: the consumer has a
            // task of its own, and a message dropped would be acknowledged and lost, so wait for room a while.
            Assembler = new SampleAssembler(Publisher, gatewayOptions.MaxSampleSize, gatewayOptions.Durable ? DurableLoanTimeout : TimeSpan.Zero)
            {
                // The lost count goes into shared memory before the sample that revealed the gap is visible: a subscriber
                // that reads it and then the count sees the count that includes the gap.
                BeforeCommit = timestamp =>
                {
                    PublishLost();
                    Publisher.SetNextTimestamp(timestamp);
                },
            };
        }

        internal Publisher Publisher { get; }

        internal SampleAssembler Assembler { get; }

        /// <summary>Writes the lost count into the publisher's segment header when it changed (where `zerolane topics` reads it).</summary>
        internal void PublishLost()
        {
            long lost = Assembler.Lost;
            if (lost != _lostPublished)
            {
                Publisher.AddForwardLost(lost - _lostPublished);
                _lostPublished = lost;
            }
        }

        public void Dispose() => Publisher.Dispose();
    }
}
