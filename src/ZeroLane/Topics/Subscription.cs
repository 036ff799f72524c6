namespace ZeroLane.Topics;

/// <summary>
/// A handler called for every sample of a <see cref="Subscriber"/>, on a thread of its own, until disposed
/// (<see cref="Subscriber.Subscribe"/>). Each sample is released when the handler returns.
/// </summary>
public sealed class Subscription : IDisposable
{
    private readonly Subscriber _subscriber;
    private readonly Action<Sample> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    internal Subscription(Subscriber subscriber, Action<Sample> handler)
    {
        _subscriber = subscriber;
        _handler = handler;
        _thread = new Thread(Run) { IsBackground = true, Name = "ZeroLane subscription " + subscriber.Topic };
        _thread.Start();
    }

    /// <summary>Samples handled so far.</summary>
    public long SamplesHandled => Interlocked.Read(ref _handled);

    private long _handled;

    /// <summary>The exception that stopped the subscription (thrown by the handler or by reading), or null while it runs or after a plain stop.</summary>
    public Exception? Error { get; private set; }

    /// <summary>True until disposed or stopped by an error.</summary>
    public bool IsRunning => _thread.IsAlive;

    private void Run()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // Publishers come and go: a subscription outlives each of them (a death or the last one leaving is not an end).
                if (_subscriber.TryRead(out Sample sample, Timeout.InfiniteTimeSpan, _stop.Token) != ReadStatus.Success)
                {
                    continue;
                }
                using (sample)
                {
                    _handler(sample);
                }
                Interlocked.Increment(ref _handled);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            Error = exception;
        }
    }

    /// <summary>Stops calling the handler and waits for a call in progress to return (unless called from the handler itself).</summary>
    public void Dispose()
    {
        _stop.Cancel();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
        _stop.Dispose();
    }
}
