using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>The reader creates the buffer: a writer that comes first fails with a clear "not found" error; a gone reader is reported.</summary>
public sealed class WriterNeedsAReader : BufferTest
{
    [Fact]
    public void AWriterBeforeAnyReaderFailsWithBufferNotFound()
    {
        string name = NewName();

        var missing = Assert.Throws<BufferNotFoundException>(() => new RingWriter(name));

        Assert.Contains(name, missing.Message, StringComparison.Ordinal);
        Assert.Contains("reader", missing.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(TestBuffers.Leftovers(name));
    }

    [Fact]
    public void AWriterAfterTheReaderWasDisposedFailsWithBufferNotFound()
    {
        string name = NewName();
        new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 }).Dispose();

        Assert.Throws<BufferNotFoundException>(() => new RingWriter(name));
    }

    [Fact]
    public void AWriterWaitingForSpaceLearnsThatTheReaderDisposedTheBuffer()
    {
        string name = NewName();
        var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1024 });
        using var writer = new RingWriter(name);
        writer.Write(new byte[1024 - 16], Safety.Timeout);
        Task<WriteStatus> waiting = Safety.OnThread(() => writer.TryWrite(new byte[100], Safety.Timeout));

        reader.Dispose();

        Assert.Equal(WriteStatus.ReaderGone, Safety.Join(waiting, "the waiting writer"));
        Assert.False(writer.IsReaderConnected);
        Assert.Throws<ReaderGoneException>(() => writer.Write(new byte[1], Safety.Timeout));
    }
}
