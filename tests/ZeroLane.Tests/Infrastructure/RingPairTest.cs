using ZeroLane.Buffers;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>Base for tests of one reader and one writer on a fresh buffer, both disposed after the test.</summary>
public abstract class RingPairTest : BufferTest
{
    protected RingPairTest(ReaderOptions options, WriterOptions? writerOptions = null)
    {
        string name = NewName();
        Reader = new RingReader(name, options);
        Writer = new RingWriter(name, writerOptions);
    }

    protected RingReader Reader { get; }

    protected RingWriter Writer { get; }

    public override void Dispose()
    {
        Writer.Dispose();
        Reader.Dispose();
        base.Dispose();
    }
}
