namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// Safety nets against hangs. Nothing here measures speed: a test that reaches a limit has hung, and the
/// limits are far above what any passing run needs.
/// </summary>
internal static class Safety
{
    /// <summary>The longest any single wait in a test may take before the test is declared hung.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A short wait used where the outcome must be a time-out (the buffer is known to stay full or empty).</summary>
    internal static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs <paramref name="action"/> on a dedicated thread (a blocking peer), not on the thread pool.</summary>
    internal static Task OnThread(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Runs <paramref name="func"/> on a dedicated thread.</summary>
    internal static Task<T> OnThread<T>(Func<T> func) =>
        Task.Factory.StartNew(func, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Waits for the task, failing (rather than hanging) if it does not finish within <see cref="Timeout"/>; rethrows its exception.</summary>
    internal static void Join(Task task, string what = "the peer thread")
    {
        Xunit.Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(Timeout), $"{what} did not finish within the {Timeout.TotalSeconds} s safety limit (hung?)");
        task.GetAwaiter().GetResult();
    }

    /// <summary>Waits for the task and returns its result; fails instead of hanging.</summary>
    internal static T Join<T>(Task<T> task, string what = "the peer thread")
    {
        Join((Task)task, what);
        return task.Result;
    }

    /// <summary>Waits for the event; fails instead of hanging.</summary>
    internal static void Wait(ManualResetEventSlim signal, string what)
    {
        Xunit.Assert.True(signal.Wait(Timeout), $"{what} did not happen within the {Timeout.TotalSeconds} s safety limit");
    }

    /// <summary>Waits until <paramref name="condition"/> holds (a state the code under test reports); fails instead of hanging.</summary>
    internal static void Until(Func<bool> condition, string what)
    {
        Xunit.Assert.True(SpinWait.SpinUntil(condition, Timeout), $"{what} did not happen within the {Timeout.TotalSeconds} s safety limit");
    }
}
