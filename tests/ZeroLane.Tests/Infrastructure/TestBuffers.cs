using ZeroLane.Buffers;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>Unique buffer names per test, and removal of everything a buffer consists of.</summary>
internal static class TestBuffers
{
    private static int s_counter;

    /// <summary>A name no other test (or test run) uses: prefix, process ID and a counter.</summary>
    internal static string UniqueName(string prefix = "t") =>
        $"zltest-{prefix}-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}";

    /// <summary>The paths of the four objects a buffer NAME consists of.</summary>
    internal static string[] PathsOf(string name, string lockDirectory = BufferNames.DefaultLockDirectory) =>
    [
        "/dev/shm/" + name,
        "/dev/shm/sem.sem-w-" + name,
        "/dev/shm/sem.sem-r-" + name,
        Path.Combine(lockDirectory, name + ".lock"),
    ];

    /// <summary>The objects of the buffer that still exist.</summary>
    internal static string[] Leftovers(string name, string lockDirectory = BufferNames.DefaultLockDirectory) =>
        PathsOf(name, lockDirectory).Where(File.Exists).ToArray();

    /// <summary>Removes whatever is left of the buffer; for test cleanup, whatever state the test ended in.</summary>
    internal static void Remove(string name, string lockDirectory = BufferNames.DefaultLockDirectory)
    {
        foreach (string path in PathsOf(name, lockDirectory))
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The buffer's figures, or null when there is no readable buffer of that name.</summary>
    internal static BufferStats? StatsOrNull(string name) =>
        BufferInspector.TryGetStats(name, out BufferStats? stats) ? stats : null;
}

/// <summary>
/// Base for tests that create buffers: hands out unique names and removes every object of every name it
/// handed out when the test ends, pass or fail.
/// </summary>
public abstract class BufferTest : IDisposable
{
    private readonly List<string> _names = new();

    /// <summary>A fresh unique buffer name, cleaned up after the test.</summary>
    protected string NewName(string prefix = "t")
    {
        string name = TestBuffers.UniqueName(prefix);
        _names.Add(name);
        return name;
    }

    public virtual void Dispose()
    {
        foreach (string name in _names)
        {
            TestBuffers.Remove(name);
        }
        GC.SuppressFinalize(this);
    }
}
