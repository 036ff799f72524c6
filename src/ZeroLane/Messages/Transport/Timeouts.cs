namespace ZeroLane.Messages.Transport;

/// <summary>Turns a timeout into a cancellation and the resulting cancellation back into a <see cref="TimeoutException"/>.</summary>
internal static class Timeouts
{
    internal static async ValueTask RunAsync(Func<CancellationToken, ValueTask> operation, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        using CancellationTokenSource source = Start(timeout, cancellationToken);
        try
        {
            await operation(source.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && source.IsCancellationRequested)
        {
            throw TimedOut(what, timeout, exception);
        }
    }

    internal static async ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> operation, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        using CancellationTokenSource source = Start(timeout, cancellationToken);
        try
        {
            return await operation(source.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && source.IsCancellationRequested)
        {
            throw TimedOut(what, timeout, exception);
        }
    }

    private static CancellationTokenSource Start(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }
        CancellationTokenSource source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(timeout);
        return source;
    }

    private static TimeoutException TimedOut(string what, TimeSpan timeout, Exception inner) =>
        new($"{what} did not finish within {timeout.TotalMilliseconds:0} ms.", inner);
}
