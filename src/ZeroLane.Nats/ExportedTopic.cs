using ZeroLane.Topics;

namespace ZeroLane.Nats;

/// <summary>
/// One local topic a gateway exports: its own subscriber reads every local publisher's samples in place, and a thread
/// publishes each to the topic's NATS subject (skipping forwarded samples, which came from another host). The subscriber's
/// overflow policy is the back-pressure: by default a slow network makes it drop its oldest queued sample (counted).
/// </summary>
internal sealed class ExportedTopic : IDisposable
{
    private static readonly TimeSpan s_readSlice = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a topic stays exported after its last local publisher is gone: queued samples drain meanwhile.</summary>
    private const long LingerMilliseconds = 2000;

    private readonly NatsGateway _gateway;
    private readonly Subscriber _subscriber;
    private readonly NatsSampleSender _sender;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private long _lastBusy = Environment.TickCount64;
    private long _finalDropped = -1;

    internal ExportedTopic(NatsGateway gateway, string topic, string subject)
    {
        _gateway = gateway;
        Topic = topic;
        _subscriber = new Subscriber(topic, new SubscriberOptions { Overflow = gateway.Options.Overflow });
        _sender = new NatsSampleSender(gateway.Connection, subject, gateway.Id, gateway.JetStream, gateway.DirectConnection);
        _thread = new Thread(Run) { IsBackground = true, Name = "ZeroLane gateway export " + topic };
        _thread.Start();
    }

    internal string Topic { get; }

    /// <summary>The ID of the gateway's subscriber (not a local subscriber in its own right).</summary>
    internal ulong SubscriberId => _subscriber.Id;

    /// <summary>Samples local publishers dropped from the gateway's queue because it could not send them fast enough.</summary>
    internal long Dropped => Volatile.Read(ref _finalDropped) is long final and >= 0 ? final : _subscriber.SamplesDropped;

    internal void MarkBusy() => Volatile.Write(ref _lastBusy, Environment.TickCount64);

    internal bool IdleLongEnough() => Environment.TickCount64 - Volatile.Read(ref _lastBusy) > LingerMilliseconds;

    private void Run()
    {
        CancellationToken stop = _stop.Token;
        GatewayCounters counters = _gateway.Counters;
        if (_gateway.JetStream is { } js && !EnsureStream(js, stop))
        {
            return;
        }
        // Small samples sent while more are queued may wait in the connection's batch: it goes out as soon as the queue is
        // empty for a moment, so they are never later than one look at the queue.
        bool batched = false;
        while (!stop.IsCancellationRequested)
        {
            Sample sample;
            try
            {
                if (_subscriber.TryRead(out sample, batched ? TimeSpan.Zero : s_readSlice, stop) != ReadStatus.Success)
                {
                    if (batched)
                    {
                        batched = false;
                        SendBatch(counters);
                    }
                    continue;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ZeroLaneException e)
            {
                // A corrupt publisher segment: the subscriber ignores it from now on; say so and go on with the others.
                counters.LastError = $"Topic '{Topic}': {e.Message}";
                continue;
            }
            using (sample)
            {
                if (sample.Forwarded)
                {
                    continue;
                }
                try
                {
                    _sender.Send(sample.Span, sample.PublisherId, sample.Sequence, sample.TimestampNanoseconds, stop, more: true);
                    batched = true;
                    Interlocked.Increment(ref counters.SamplesSent);
                    Interlocked.Add(ref counters.BytesSent, sample.Length);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Not sent (e.g. the connection is down and NATS.Net refused to buffer it): counted, never retried, so a
                    // receiver sees a gap in the sequence rather than a sample late and out of order.
                    Interlocked.Increment(ref counters.SendFailures);
                    counters.LastError = $"Topic '{Topic}': a sample could not be sent: {e.Message}";
                }
            }
        }
    }

    private void SendBatch(GatewayCounters counters)
    {
        try
        {
            _sender.SendBatch(_stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The samples held back were counted sent; receivers see them missing as a gap, counted there.
            Interlocked.Increment(ref counters.SendFailures);
            counters.LastError = $"Topic '{Topic}': samples could not be sent: {e.Message}";
        }
    }

    /// <summary>Creates the topic's stream unless it exists, trying again every second until it can (or the gateway stops).</summary>
    private bool EnsureStream(NATS.Client.JetStream.INatsJSContext js, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                DurableTopics.EnsureStreamAsync(js, Topic, _gateway.Options, stop).GetAwaiter().GetResult();
                return true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                _gateway.Counters.LastError = $"Topic '{Topic}': its JetStream stream could not be made ({e.Message}); is JetStream enabled on the server?";
                if (stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1)))
                {
                    return false;
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        Volatile.Write(ref _finalDropped, _subscriber.SamplesDropped);
        _subscriber.Dispose();
        _stop.Dispose();
    }
}
