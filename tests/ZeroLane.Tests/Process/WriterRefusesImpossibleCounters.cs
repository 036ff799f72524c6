using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// Hardening point 1, writer side: the writer trusts its cached free bytes only while the shared words agree with what
/// it published. A word another process set to an impossible value stops it with a BufferCorruptedException naming the
/// word, at the next frame it publishes (free bytes) or the next time it reloads the free bytes (the other words).
/// </summary>
public sealed class WriterRefusesImpossibleCounters : StrayWrites
{
    private const int PayloadSize = 1024;
    private const int FrameLength = 100;
    private readonly string _name;
    private readonly RingReader _reader;
    private readonly RingWriter _writer;

    public WriterRefusesImpossibleCounters()
    {
        _name = NewName("badwcount");
        _reader = new RingReader(_name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        _writer = new RingWriter(_name);
    }

    public override void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
        Assert.Empty(TestBuffers.Leftovers(_name));
        base.Dispose();
    }

    private string WriteFails() =>
        Assert.Throws<BufferCorruptedException>(() => _writer.TryWrite(new byte[FrameLength], Safety.Short)).Message;

    /// <summary>Fills the ring (nothing is read), so the next write must reload the shared free bytes.</summary>
    private void Fill()
    {
        while (_writer.TryWrite(new byte[FrameLength], Safety.Short) == WriteStatus.Success)
        {
        }
    }

    [Fact]
    public void FreeBytesAboveTheBlockStopTheNextWrite()
    {
        _writer.Write(new byte[FrameLength], Safety.Timeout);

        Poke(_name, SpecLayout.PayloadFreeBytes, 5000);

        string message = WriteFails();
        Assert.Contains($"payload_free_bytes is {5000 - 16 - FrameLength} after this writer reserved {16 + FrameLength} bytes", message, StringComparison.Ordinal);
        Assert.Equal(1UL, _reader.GetStats().FramesWritten); // the refused frame was not published
    }

    [Fact]
    public void FreeBytesSetBelowWhatThisWriterReservedStopTheNextWrite()
    {
        _writer.Write(new byte[FrameLength], Safety.Timeout);

        Poke(_name, SpecLayout.PayloadFreeBytes, 0);

        Assert.Contains($"payload_free_bytes is {-(16 + FrameLength)} after this writer reserved", WriteFails(), StringComparison.Ordinal);
    }

    [Fact]
    public void FreeBytesAboveTheBlockAreRefusedWhenTheWriterReloadsThem()
    {
        Fill();

        Poke(_name, SpecLayout.PayloadFreeBytes, PayloadSize + 1);

        Assert.Contains($"payload_free_bytes is {PayloadSize + 1}, more than the {PayloadSize}-byte payload block", WriteFails(), StringComparison.Ordinal);
    }

    [Fact]
    public void AWrittenCountChangedBehindTheWritersBackIsReported()
    {
        Fill();
        ulong published = _reader.GetStats().FramesWritten;

        Poke(_name, SpecLayout.PayloadWrittenCount, 0);

        Assert.Contains($"payload_written_count is 0, but this writer has published {published} items", WriteFails(), StringComparison.Ordinal);
    }

    [Fact]
    public void AReadCountAboveTheWrittenCountIsReported()
    {
        Fill();

        Poke(_name, SpecLayout.PayloadReadCount, 1000);

        Assert.Contains("payload_read_count is 1000, above payload_written_count", WriteFails(), StringComparison.Ordinal);
    }

    [Fact]
    public void AReadPositionBeyondTheBlockIsReported()
    {
        Fill();

        Poke(_name, SpecLayout.PayloadReadPos, 5000);

        Assert.Contains($"payload_read_pos is 5000, beyond the end of the {PayloadSize}-byte payload block", WriteFails(), StringComparison.Ordinal);
    }

    [Fact]
    public void AWriterDoesNotConnectToARingWhoseReadCountIsAboveItsWrittenCount()
    {
        _writer.Dispose();

        Poke(_name, SpecLayout.PayloadReadCount, 7);

        var refused = Assert.Throws<BufferCorruptedException>(() => new RingWriter(_name));
        Assert.Contains("payload_read_count is 7, above payload_written_count 0", refused.Message, StringComparison.Ordinal);
    }
}
