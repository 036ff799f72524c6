using ZeroLane.Posix;

namespace ZeroLane.Ipc;

/// <summary>Lets an endpoint's Dispose wait for the waits running on other threads to leave before it unmaps anything.</summary>
internal static class ActiveWaits
{
    /// <summary>Waits (up to 5 s) until <paramref name="count"/> is 0, posting <paramref name="wake"/> to wake stragglers.</summary>
    internal static void WaitUntilNone(ref int count, NamedSemaphore wake)
    {
        long giveUp = Environment.TickCount64 + 5000;
        while (Volatile.Read(ref count) > 0 && Environment.TickCount64 < giveUp)
        {
            wake.Post();
            Thread.Sleep(1);
        }
    }
}
