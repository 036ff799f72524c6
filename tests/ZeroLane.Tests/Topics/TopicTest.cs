using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// Base for topic tests: unique topic names, and after the test (pass or fail) removal of whatever of those topics is
/// left in /dev/shm, which the test then asserts was nothing.
/// </summary>
public abstract class TopicTest : IDisposable
{
    private readonly List<string> _topics = new();

    /// <summary>A fresh unique topic name, cleaned up after the test.</summary>
    protected string NewTopic(string prefix = "tp")
    {
        string topic = TestBuffers.UniqueName(prefix);
        _topics.Add(topic);
        return topic;
    }

    /// <summary>Every /dev/shm file of the topic (publisher segments and semaphores, subscriber semaphores).</summary>
    protected static string[] Leftovers(string topic) =>
        Directory.GetFiles("/dev/shm").Where(path =>
        {
            string file = Path.GetFileName(path);
            return file.StartsWith($"zlt.{topic}.", StringComparison.Ordinal) || file.StartsWith($"sem.zlt.{topic}.", StringComparison.Ordinal);
        }).ToArray();

    public virtual void Dispose()
    {
        foreach (string path in _topics.SelectMany(Leftovers))
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
        GC.SuppressFinalize(this);
    }
}
