using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>
/// Defects 5 and 6: impossible headers and out-of-order sequence numbers written by a peer raise a clear
/// BufferCorruptedException; the reader never reads outside the block and can still be disposed cleanly.
/// </summary>
public sealed class ReaderCorruptionDetection : BufferTest
{
    private const int PayloadSize = 1024;
    private readonly string _name;
    private readonly RingReader _reader;
    private readonly PeerWriter _peer;

    public ReaderCorruptionDetection()
    {
        _name = NewName();
        _reader = new RingReader(_name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        _peer = new PeerWriter(_name);
        _peer.Connect();
    }

    public override void Dispose()
    {
        _peer.Dispose();
        _reader.Dispose();
        Assert.Empty(TestBuffers.Leftovers(_name));
        base.Dispose();
    }

    private BufferCorruptedException ReadFails() =>
        Assert.Throws<BufferCorruptedException>(() => _reader.TryRead(out _, Safety.Timeout));

    [Theory]
    [InlineData(PayloadSize - 15UL)]
    [InlineData((ulong)PayloadSize)]
    [InlineData(2000UL)]
    [InlineData(1UL << 40)]
    [InlineData(ulong.MaxValue)]
    public void AHeaderClaimingMoreBytesThanRemainInTheBlockIsReportedAsCorruption(ulong size)
    {
        _peer.WriteRawFrame(size, sequence: 1, bytes: default, advance: 16);

        BufferCorruptedException corrupted = ReadFails();

        Assert.Contains(_name, corrupted.Message, StringComparison.Ordinal);
        Assert.Contains($"claims {size} bytes", corrupted.Message, StringComparison.Ordinal);
        Assert.Contains($"only {PayloadSize - 16} remain", corrupted.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHeaderThatFitsTheBlockButNotTheRestOfItIsReportedAsCorruption()
    {
        _peer.WriteFrame(new byte[500], sequence: 1); // next header at 516: 492 bytes remain after it
        _reader.Read(Safety.Timeout).Dispose();

        _peer.WriteRawFrame(493, sequence: 2, bytes: default, advance: 16);

        Assert.Contains("only 492 remain", ReadFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHeaderOfSizeZeroWithANonZeroSequenceIsNotTakenForAWrapMarker()
    {
        _peer.WriteRawFrame(0, sequence: 7, bytes: default, advance: 16);

        Assert.Contains("size 0", ReadFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrapMarkerAtOffsetZeroIsReportedAsCorruptionNotConsumedForever()
    {
        // No frame can fail to fit at offset 0, so no writer puts a marker there; zeros at 0 (a wiped segment) used to
        // be taken for markers, one after another, without end.
        _peer.WriteRawFrame(0, sequence: 0, bytes: default, advance: 16);

        Assert.Contains("wrap marker at payload offset 0", ReadFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASequenceGapIsReportedWithTheExpectedAndActualNumbers()
    {
        for (ulong i = 1; i <= 3; i++)
        {
            _peer.WriteFrame(new byte[10], sequence: i);
        }
        _peer.WriteFrame(new byte[10], sequence: 5);
        for (int i = 0; i < 3; i++)
        {
            _reader.Read(Safety.Timeout).Dispose();
        }

        Assert.Contains("expected 4, got 5", ReadFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARepeatedSequenceNumberIsReported()
    {
        _peer.WriteFrame(new byte[10], sequence: 1);
        _peer.WriteFrame(new byte[10], sequence: 2);
        _peer.WriteFrame(new byte[10], sequence: 2);
        _reader.Read(Safety.Timeout).Dispose();
        _reader.Read(Safety.Timeout).Dispose();

        Assert.Contains("expected 3, got 2", ReadFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFirstFrameThatDoesNotStartAtSequenceOneIsReported()
    {
        _peer.WriteFrame(new byte[10], sequence: 7);

        Assert.Contains("expected 1, got 7", ReadFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SequenceOneAfterOthersIsAcceptedAsANewWriterStartingOver()
    {
        _peer.WriteFrame(new byte[10], sequence: 1);
        _peer.WriteFrame(new byte[10], sequence: 2);
        using (Frame first = _reader.Read(Safety.Timeout))
        {
            Assert.Equal(1UL, first.Sequence);
        }
        // Another peer writer (PID 1 stands in for its process) connects after the first one left and starts over.
        _peer.Disconnect();
        _peer.Connect(pid: 1);
        _peer.WriteFrame(new byte[10], sequence: 1);
        _peer.WriteFrame(new byte[10], sequence: 2);

        ulong[] sequences = [1UL, .. Enumerable.Range(0, 3).Select(_ =>
        {
            using Frame frame = _reader.Read(Safety.Timeout);
            return frame.Sequence;
        })];

        Assert.Equal([1UL, 2UL, 1UL, 2UL], sequences);
    }

    [Fact]
    public void SequenceOneAgainFromTheSameWriterIsReportedAsARestartNoWriterExplains()
    {
        _peer.WriteFrame(new byte[10], sequence: 1);
        _peer.WriteFrame(new byte[10], sequence: 2);
        _peer.WriteFrame(new byte[10], sequence: 1);
        _reader.Read(Safety.Timeout).Dispose();
        _reader.Read(Safety.Timeout).Dispose();

        string message = ReadFails().Message;

        Assert.Contains("sequence restart", message, StringComparison.Ordinal);
        Assert.Contains($"writer_pid {Environment.ProcessId}", message, StringComparison.Ordinal);
        Assert.Contains("payload_written_count", message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriterStateCountsTheConnectionsOfZeroLaneWriters()
    {
        _peer.Disconnect();
        ulong WriterState() => _peer.Segment.U64(120);
        new RingWriter(_name).Dispose();
        Assert.Equal(2UL, WriterState()); // one connection, none connected now
        using var second = new RingWriter(_name);
        Assert.Equal(2UL * 2 + 1, WriterState()); // two connections, one connected
    }

    [Fact]
    public void ARingWriterThatReconnectsFromTheSameProcessMayStartOver()
    {
        // Same PID and start time: the connection count in writer_state is what proves the new writer.
        // Each frame is read while its writer is connected, so the reader sees the same identity words both times.
        _peer.Disconnect();
        using (var first = new RingWriter(_name))
        {
            first.Write(new byte[10]);
            using Frame frame = _reader.Read(Safety.Timeout);
            Assert.Equal(1UL, frame.Sequence);
        }
        using var second = new RingWriter(_name);
        second.Write(new byte[10]);

        using Frame again = _reader.Read(Safety.Timeout);
        Assert.Equal(1UL, again.Sequence);
    }

    [Fact]
    public async Task CorruptionIsReportedThroughAsyncReadsToo()
    {
        _peer.WriteRawFrame(5000, sequence: 1, bytes: default, advance: 16);

        await Assert.ThrowsAsync<BufferCorruptedException>(async () => await _reader.ReadAsync());
    }

    [Fact]
    public async Task CorruptionArrivingWhileAnAsyncReadWaitsFailsThatRead()
    {
        Task<Frame> pending = _reader.ReadAsync().AsTask();

        _peer.WriteRawFrame(5000, sequence: 1, bytes: default, advance: 16);

        await Assert.ThrowsAsync<BufferCorruptedException>(() => pending.WaitAsync(Safety.Timeout));
    }
}
