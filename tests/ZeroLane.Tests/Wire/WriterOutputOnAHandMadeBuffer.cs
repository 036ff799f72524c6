using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>
/// A RingWriter connected to a buffer built by hand from the spec, as a reference (non-ZeroLane) reader
/// would build it: every byte it writes (headers, payload, markers, counters, positions) is checked against
/// the spec, and frames are read back by hand as the reference readers read them.
/// </summary>
public sealed class WriterOutputOnAHandMadeBuffer : BufferTest
{
    private const int PayloadSize = 1024;
    private readonly HandMadeBuffer _buffer;
    private readonly RingWriter _writer;

    public WriterOutputOnAHandMadeBuffer()
    {
        _buffer = HandMadeBuffer.Create(NewName(), metadataSize: 1024, payloadSize: PayloadSize);
        _writer = new RingWriter(_buffer.Name);
    }

    public override void Dispose()
    {
        _writer.Dispose();
        _buffer.Dispose();
        base.Dispose();
    }

    private (byte[] Payload, ulong Sequence) ReadByHand()
    {
        Assert.True(_buffer.TryReadFrame(out byte[] payload, out ulong sequence), "no frame was published");
        return (payload, sequence);
    }

    [Fact]
    public void ConnectingRecordsTheWritersPidAndChangesNothingElse()
    {
        Assert.Equal((ulong)Environment.ProcessId, _buffer.Segment.U64(SpecLayout.WriterPid));
        Assert.Equal((ulong)PayloadSize, _buffer.FreeBytes);
        Assert.Equal(0UL, _buffer.WritePosition);
        Assert.Equal(0UL, _buffer.WrittenCount);
        Assert.True(_buffer.PayloadBytes(0, PayloadSize).IndexOfAnyExcept(HandMadeBuffer.Junk) < 0);
        Assert.Equal(0, _buffer.WriteSemaphore.Value);
    }

    [Fact]
    public void FramesAreWrittenAsHeaderAndPayloadBackToBackWithTheCountersTheSpecRequires()
    {
        _writer.Write(Patterns.Create(100, seed: 1), Safety.Timeout);

        Assert.Equal((100UL, 1UL), _buffer.HeaderAt(0));
        Patterns.AssertMatches(_buffer.PayloadBytes(16, 100), 100, seed: 1);
        Assert.Equal(HandMadeBuffer.Junk, _buffer.PayloadBytes(116, 1)[0]);
        Assert.Equal(116UL, _buffer.WritePosition);
        Assert.Equal((ulong)PayloadSize - 116, _buffer.FreeBytes);
        Assert.Equal(1UL, _buffer.WrittenCount);
        Assert.Equal(0UL, _buffer.ReadCount);
        Assert.Equal(1, _buffer.WriteSemaphore.Value);

        _writer.Write(Patterns.Create(50, seed: 2), Safety.Timeout);

        Assert.Equal((50UL, 2UL), _buffer.HeaderAt(116));
        Patterns.AssertMatches(_buffer.PayloadBytes(132, 50), 50, seed: 2);
        Assert.Equal(182UL, _buffer.WritePosition);
        Assert.Equal((ulong)PayloadSize - 182, _buffer.FreeBytes);
        Assert.Equal(2UL, _buffer.WrittenCount);
        Assert.Equal(2, _buffer.WriteSemaphore.Value);
        Assert.Equal(0UL, _buffer.Segment.U64(SpecLayout.MetadataWrittenBytes));
    }

    [Fact]
    public void AReferenceReaderReadsTheFramesBackInOrder()
    {
        for (ulong i = 1; i <= 3; i++)
        {
            _writer.Write(Patterns.Create(100 * (int)i, seed: i), Safety.Timeout);
        }

        for (ulong i = 1; i <= 3; i++)
        {
            (byte[] payload, ulong sequence) = ReadByHand();
            Assert.Equal(i, sequence);
            Patterns.AssertMatches(payload, 100 * (int)i, seed: i);
        }
        Assert.Equal((ulong)PayloadSize, _buffer.FreeBytes);
        Assert.Equal(_buffer.WritePosition, _buffer.ReadPosition);
    }

    [Fact]
    public void MetadataIsWrittenAsALengthPrefixFollowedByTheBytes()
    {
        _writer.SetMetadata(Patterns.Create(100, seed: 9));

        Assert.Equal(100UL, _buffer.Segment.U64(_buffer.MetadataOffset));
        Patterns.AssertMatches(_buffer.Segment.Bytes(_buffer.MetadataOffset + 8, 100), 100, seed: 9);
        Assert.Equal(108UL, _buffer.Segment.U64(SpecLayout.MetadataWrittenBytes));
        Assert.Equal(1024UL - 108, _buffer.Segment.U64(SpecLayout.MetadataFreeBytes));
        Assert.Equal(1024UL, _buffer.Segment.U64(SpecLayout.MetadataSize));
    }

    [Fact]
    public void AWrapWritesAMarkerThenTheFrameAtOffsetZeroCountsBothAndPostsOnce()
    {
        _writer.Write(Patterns.Create(600, seed: 1), Safety.Timeout); // [0, 616)
        ReadByHand();

        _writer.Write(Patterns.Create(500, seed: 2), Safety.Timeout); // 408 left before the end: wraps

        Assert.Equal((0UL, 0UL), _buffer.HeaderAt(616));
        Assert.True(_buffer.PayloadBytes(632, PayloadSize - 632).IndexOfAnyExcept(HandMadeBuffer.Junk) < 0, "nothing after the marker is touched");
        Assert.Equal((500UL, 2UL), _buffer.HeaderAt(0));
        Patterns.AssertMatches(_buffer.PayloadBytes(16, 500), 500, seed: 2);
        Assert.Equal(516UL, _buffer.WritePosition);
        Assert.Equal((ulong)PayloadSize - 408 - 516, _buffer.FreeBytes);
        Assert.Equal(3UL, _buffer.WrittenCount);
        Assert.Equal(2, _buffer.WriteSemaphore.Value);

        (byte[] payload, ulong sequence) = ReadByHand();
        Assert.Equal(2UL, sequence);
        Patterns.AssertMatches(payload, 500, seed: 2);
        Assert.Equal(3UL, _buffer.ReadCount);
        Assert.Equal((ulong)PayloadSize, _buffer.FreeBytes);
    }

    public static TheoryData<int> Tails => new(Enumerable.Range(1, 15));

    [Theory]
    [MemberData(nameof(Tails))]
    public void TheWriterNeverLeavesAReferenceReaderATailShorterThanAHeader(int tail)
    {
        _writer.Write(Patterns.Create(496, seed: 1), Safety.Timeout); // write_pos 512
        ReadByHand();
        int size = PayloadSize - 512 - 16 - tail;

        _writer.Write(Patterns.Create(size, seed: 2), Safety.Timeout);

        Assert.Equal((0UL, 0UL), _buffer.HeaderAt(512));
        Assert.Equal(((ulong)size, 2UL), _buffer.HeaderAt(0));
        Assert.Equal((ulong)(16 + size), _buffer.WritePosition);
        (byte[] payload, ulong sequence) = ReadByHand();
        Assert.Equal(2UL, sequence);
        Patterns.AssertMatches(payload, size, seed: 2);
    }

    [Fact]
    public void TheWriterWaitsUntilTheReferenceReaderFreesSpace()
    {
        while (_writer.TryWrite(new byte[240], TimeSpan.Zero) == WriteStatus.Success)
        {
        }
        Assert.Equal(4UL, _buffer.WrittenCount);
        Assert.Equal(0UL, _buffer.FreeBytes);
        Assert.Equal(WriteStatus.TimedOut, _writer.TryWrite(new byte[240], Safety.Short));

        ReadByHand();

        Assert.Equal(WriteStatus.Success, _writer.TryWrite(Patterns.Create(240, seed: 5), Safety.Timeout));
        Assert.Equal((240UL, 5UL), _buffer.HeaderAt(0));
    }

    [Fact]
    public void AFrameThatFitsNeitherBeforeTheEndNorBeforeTheMarkerFailsAtOnceWithAReferenceReader()
    {
        // A reference reader expects the frame right after a marker, so the writer cannot publish the marker
        // alone and wait; refusing at once beats blocking for ever.
        _writer.Write(new byte[600], Safety.Timeout);
        ReadByHand();

        Assert.Throws<FrameTooLargeException>(() => _writer.TryWrite(new byte[700], Timeout.InfiniteTimeSpan));
        Assert.Equal(1UL, _buffer.WrittenCount);
    }

    [Fact]
    public void DisconnectingClearsTheWriterPidAndPostsTheWriteSemaphoreOnce()
    {
        _writer.Write(new byte[10], Safety.Timeout);

        _writer.Dispose();

        Assert.Equal(0UL, _buffer.Segment.U64(SpecLayout.WriterPid));
        Assert.Equal(2, _buffer.WriteSemaphore.Value);
        Assert.True(_buffer.WrittenCount >= _buffer.ReadCount);
    }
}
