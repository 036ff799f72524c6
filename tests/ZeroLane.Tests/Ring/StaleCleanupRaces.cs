using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Every new reader first removes stale buffers in its lock directory. That cleanup must never remove the
/// objects of a live buffer, in particular one that is being created or disposed at that very moment.
/// </summary>
public sealed class StaleCleanupRaces : BufferTest
{
    private readonly TempDirectory _lockDirectory = new();

    public override void Dispose()
    {
        _lockDirectory.Dispose();
        base.Dispose();
    }

    /// <summary>Recreates the buffer <paramref name="name"/> again and again, using it each time; returns what went wrong.</summary>
    private static List<string> Recreate(string name, ReaderOptions options, int cycles)
    {
        var failures = new List<string>();
        for (int i = 0; i < cycles && failures.Count < 5; i++)
        {
            try
            {
                using var reader = new RingReader(name, options);
                using var writer = new RingWriter(name);
                writer.Write(new[] { (byte)i }, Safety.Timeout);
                using Frame frame = reader.Read(Safety.Timeout);
            }
            catch (Exception exception) when (exception is ZeroLaneException or IOException or UnauthorizedAccessException)
            {
                failures.Add($"cycle {i}: {exception.GetType().Name}: {exception.Message}");
            }
        }
        return failures;
    }

    /// <summary>Recreates the buffer while <paramref name="cleanup"/> runs in a loop on another thread; returns what went wrong on either side.</summary>
    private static List<string> RecreateWhile(Action<string> cleanup, string name, ReaderOptions options)
    {
        using var done = new CancellationTokenSource();
        var cleanupFailures = new List<string>();
        Task cleaning = Safety.OnThread(() =>
        {
            while (!done.IsCancellationRequested && cleanupFailures.Count < 5)
            {
                try
                {
                    cleanup(name);
                }
                catch (ZeroLaneException exception)
                {
                    cleanupFailures.Add($"cleanup side: {exception.GetType().Name}: {exception.Message}");
                }
            }
        });
        List<string> failures;
        try
        {
            failures = Recreate(name, options, cycles: 2000);
        }
        finally
        {
            done.Cancel();
            Safety.Join(cleaning, "the cleanup loop");
        }
        failures.AddRange(cleanupFailures);
        return failures;
    }

    [Fact]
    public void ReadersCreatedElsewhereInTheLockDirectoryNeverBreakABufferBeingRecreated()
    {
        string name = NewName();
        var options = new ReaderOptions { MetadataSize = 0, PayloadSize = 4096, LockDirectory = _lockDirectory.Path };
        string[] others = [NewName(), NewName()];
        int turn = 0;

        // Each reader's constructor runs the stale cleanup over the whole lock directory.
        List<string> failures = RecreateWhile(_ => new RingReader(others[turn++ % 2], options).Dispose(), name, options);

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void CleaningABufferWhileItsReaderIsBeingRecreatedNeverBreaksIt()
    {
        string name = NewName();
        var options = new ReaderOptions { MetadataSize = 0, PayloadSize = 4096, LockDirectory = _lockDirectory.Path };

        // An operator (or a tool) cleaning "stale" buffers while the application restarts its reader.
        List<string> failures = RecreateWhile(n => BufferInspector.Clean(n, _lockDirectory.Path), name, options);

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
