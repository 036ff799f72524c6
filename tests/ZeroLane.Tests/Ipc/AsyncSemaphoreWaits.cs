using ZeroLane.Ipc;
using ZeroLane.Posix;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Ipc;

/// <summary>
/// The asynchronous semaphore wait behaves the same whether the shared wait threads (futex_waitv) or a thread of the
/// endpoint's own do the sleeping: the same tests run against both.
/// </summary>
public sealed class AsyncSemaphoreWaits : IDisposable
{
    private readonly string _name = "/zltest-asw-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8];
    private readonly NamedSemaphore _semaphore;

    public AsyncSemaphoreWaits()
    {
        _semaphore = NamedSemaphore.CreateExclusive(_name, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public static TheoryData<bool> Implementations => new() { true, false };

    private static AsyncSemaphoreWait Create(bool shared)
    {
        if (shared)
        {
            Assert.True(SemaphoreWaitHub.Instance is not null,
                "The shared wait threads are not available: they need futex_waitv (Linux 5.16 or later) and glibc's semaphore layout.");
        }
        return new AsyncSemaphoreWait("test wait", shared ? SemaphoreWaitHub.Instance : null);
    }

    private static long In(TimeSpan time) => System.Diagnostics.Stopwatch.GetTimestamp() + (long)(time.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

    [Theory]
    [MemberData(nameof(Implementations))]
    public async Task APostEndsTheWaitWithTrue(bool shared)
    {
        using AsyncSemaphoreWait wait = Create(shared);
        Task<bool> pending = wait.WaitAsync(_semaphore, In(Safety.Timeout), CancellationToken.None).AsTask();
        Assert.False(pending.IsCompleted);

        await Safety.OnThread(_semaphore.Post);

        Assert.True(await pending.WaitAsync(Safety.Timeout));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public async Task AValueAlreadyAboveZeroEndsTheWaitAtOnce(bool shared)
    {
        using AsyncSemaphoreWait wait = Create(shared);
        _semaphore.Post();

        Assert.True(await wait.WaitAsync(_semaphore, In(Safety.Timeout), CancellationToken.None).AsTask().WaitAsync(Safety.Timeout));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public async Task TheDeadlineEndsTheWaitWithFalse(bool shared)
    {
        using AsyncSemaphoreWait wait = Create(shared);

        Assert.False(await wait.WaitAsync(_semaphore, In(Safety.Short), CancellationToken.None).AsTask().WaitAsync(Safety.Timeout));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public async Task CancellingEndsTheWaitWithOperationCanceledException(bool shared)
    {
        using AsyncSemaphoreWait wait = Create(shared);
        using var cancellation = new CancellationTokenSource();
        Task<bool> pending = wait.WaitAsync(_semaphore, In(Safety.Timeout), cancellation.Token).AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Safety.Timeout));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public async Task TheWaitIsReusedAfterEachOutcome(bool shared)
    {
        using AsyncSemaphoreWait wait = Create(shared);
        using (var cancellation = new CancellationTokenSource())
        {
            Task<bool> cancelled = wait.WaitAsync(_semaphore, In(Safety.Timeout), cancellation.Token).AsTask();
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Safety.Timeout));
        }
        Assert.False(await wait.WaitAsync(_semaphore, In(Safety.Short), CancellationToken.None).AsTask().WaitAsync(Safety.Timeout));
        _semaphore.Post();
        Assert.True(await wait.WaitAsync(_semaphore, In(Safety.Timeout), CancellationToken.None).AsTask().WaitAsync(Safety.Timeout));
        Assert.Equal(3, wait.WaitsStarted);
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public async Task OneWaitRunsAtATime(bool shared)
    {
        using AsyncSemaphoreWait wait = Create(shared);
        Task<bool> pending = wait.WaitAsync(_semaphore, In(Safety.Timeout), CancellationToken.None).AsTask();

        Assert.Throws<InvalidOperationException>(() => wait.WaitAsync(_semaphore, In(Safety.Timeout), CancellationToken.None));

        _semaphore.Post();
        Assert.True(await pending.WaitAsync(Safety.Timeout));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public async Task DisposingEndsAPendingWaitAndRefusesNewOnes(bool shared)
    {
        AsyncSemaphoreWait wait = Create(shared);
        Task<bool> pending = wait.WaitAsync(_semaphore, In(Safety.Timeout), CancellationToken.None).AsTask();

        wait.Dispose();

        // Ended as "posted": the owner looks at its state again and finds itself disposed.
        Assert.True(await pending.WaitAsync(Safety.Timeout));
        Assert.Throws<ObjectDisposedException>(() => wait.WaitAsync(_semaphore, In(Safety.Timeout), CancellationToken.None));
    }

    public void Dispose()
    {
        _semaphore.Dispose();
        NamedSemaphore.Unlink(_name);
    }
}
