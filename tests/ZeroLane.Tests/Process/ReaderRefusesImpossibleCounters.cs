using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// Hardening point 1, reader side: a counter another process sets to a value no writer can produce ends the stream with
/// a BufferCorruptedException that names the word, and no frame is ever handed out twice. It used to redeliver old
/// frames again and again (written_count 0, 2^64-1, or ahead of what was written) with no error.
/// </summary>
public sealed class ReaderRefusesImpossibleCounters : StrayWrites
{
    private const int PayloadSize = 1024;
    private const int FrameLength = 100; // 116 bytes with its header: 8 frames and a marker per lap
    private readonly string _name;
    private readonly RingReader _reader;
    private readonly RingWriter _writer;
    private readonly List<ulong> _delivered = new();

    public ReaderRefusesImpossibleCounters()
    {
        _name = NewName("badcount");
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

    /// <summary>Writes and reads <paramref name="count"/> frames, one at a time.</summary>
    private void Stream(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _writer.Write(Patterns.Create(FrameLength, seed: (ulong)i), Safety.Timeout);
            Deliver();
        }
    }

    private void Deliver()
    {
        using Frame frame = _reader.Read(Safety.Timeout);
        _delivered.Add(frame.Sequence);
    }

    /// <summary>Every later read fails the same way, and nothing was delivered twice.</summary>
    private string ReadsFail()
    {
        BufferCorruptedException first = Assert.Throws<BufferCorruptedException>(() =>
        {
            // Reads until the reader notices (a bounded number of times); a frame delivered meanwhile is recorded and
            // checked below.
            for (int attempt = 0; attempt < 200; attempt++)
            {
                if (_reader.TryRead(out Frame frame, Safety.Short) == ReadStatus.Success)
                {
                    _delivered.Add(frame.Sequence);
                    frame.Dispose();
                }
            }
            Assert.Fail($"200 reads after the damage raised nothing; delivered: {string.Join(",", _delivered)}");
        });
        Assert.Throws<BufferCorruptedException>(() => _reader.TryRead(out _, Safety.Short));
        Assert.Equal(_delivered.Count, _delivered.Distinct().Count());
        Assert.Contains(_name, first.Message, StringComparison.Ordinal);
        return first.Message;
    }

    [Fact]
    public void AWrittenCountSetToZeroIsReportedAsBelowWhatWasConsumed()
    {
        Stream(3);

        Poke(_name, SpecLayout.PayloadWrittenCount, 0);

        string message = ReadsFail();
        Assert.Contains("payload_written_count is 0, below the 3 items this reader has already consumed", message, StringComparison.Ordinal);
        Assert.Equal([1UL, 2UL, 3UL], _delivered);
    }

    [Fact]
    public void AWrittenCountSetToTheLargestValueIsReportedAsMoreItemsThanTheBlockHolds()
    {
        Stream(3);

        Poke(_name, SpecLayout.PayloadWrittenCount, ulong.MaxValue);

        string message = ReadsFail();
        Assert.Contains($"payload_written_count is {ulong.MaxValue}", message, StringComparison.Ordinal);
        Assert.Contains($"holds at most {PayloadSize / 16}", message, StringComparison.Ordinal);
        Assert.Equal([1UL, 2UL, 3UL], _delivered);
    }

    [Fact]
    public void AWrittenCountAheadOfAFreshRingIsReportedAsARestartNoWriterExplains()
    {
        // Beyond frame 3 the block is still zero: read as a marker, it leads back to frame 1 at offset 0.
        Stream(3);

        Poke(_name, SpecLayout.PayloadWrittenCount, 3 + 5);

        string message = ReadsFail();
        Assert.Contains("sequence restart", message, StringComparison.Ordinal);
        Assert.Contains("payload_written_count was set ahead", message, StringComparison.Ordinal);
        Assert.Equal([1UL, 2UL, 3UL], _delivered);
    }

    [Fact]
    public void AWrittenCountAheadOfAWrappedRingIsReportedAsAnOlderFrameReadAgain()
    {
        // 30 frames: three laps and a bit, so the bytes after frame 30 hold frame 23 of the lap before.
        Stream(30);

        Poke(_name, SpecLayout.PayloadWrittenCount, ReadU64(SpecLayout.PayloadWrittenCount) + 5);

        string message = ReadsFail();
        Assert.Contains("sequence gap: expected 31, got 23", message, StringComparison.Ordinal);
        Assert.Contains("payload_written_count", message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (ulong)i), _delivered);
    }

    [Fact]
    public void FreeBytesAboveTheBlockAfterACreditAreReported()
    {
        Stream(3);
        _writer.Write(Patterns.Create(FrameLength, seed: 3), Safety.Timeout);

        Poke(_name, SpecLayout.PayloadFreeBytes, 2000);
        Deliver(); // frame 4 is intact; its credit lands on the bad count

        string message = ReadsFail();
        Assert.Contains($"payload_free_bytes was {2000 + 16 + FrameLength} after this reader gave back {16 + FrameLength} bytes", message, StringComparison.Ordinal);
        Assert.Equal([1UL, 2UL, 3UL, 4UL], _delivered);
    }

    private ulong ReadU64(int offset)
    {
        using RawSegment segment = RawSegment.Open(_name);
        return segment.U64(offset);
    }
}
