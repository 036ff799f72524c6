using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>
/// Hardening point 8: a peer writer that wraps at a tail too short for a marker counts either only the frame (the C++
/// writer) or the frame and a marker it never wrote (the Python writer). The reader reads both streams whole and in
/// order, and finishes every counted item, so read_count ends equal to written_count. It used to see the Python
/// writer's phantom as one item too many and report "sequence gap: expected 447, got 2" on an intact stream.
/// </summary>
public sealed class ShortTailsInBothPeerConventions : BufferTest
{
    private const int PayloadSize = 1024;
    private const int FrameLength = 85; // 101 bytes with its header: ten frames per lap leave a 14-byte tail
    private readonly string _name;
    private readonly RingReader _reader;

    public ShortTailsInBothPeerConventions()
    {
        _name = NewName("phantom");
        _reader = new RingReader(_name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
    }

    public override void Dispose()
    {
        _reader.Dispose();
        Assert.Empty(TestBuffers.Leftovers(_name));
        base.Dispose();
    }

    private void ReadInOrder(ulong sequence)
    {
        using Frame frame = _reader.Read(Safety.Timeout);
        Assert.Equal(sequence, frame.Sequence);
        Patterns.AssertMatches(frame.Span, FrameLength, sequence);
    }

    /// <summary>Writes <paramref name="frames"/> frames in batches of <paramref name="batch"/>, reading each batch after it is written.</summary>
    private void Stream(PeerWriter peer, int frames, int batch)
    {
        for (ulong next = 1; next <= (ulong)frames;)
        {
            ulong first = next;
            for (int i = 0; i < batch && next <= (ulong)frames; i++, next++)
            {
                peer.WriteFrame(Patterns.Create(FrameLength, next), next);
            }
            for (ulong sequence = first; sequence < next; sequence++)
            {
                ReadInOrder(sequence);
            }
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 4)]
    [InlineData(false, 9)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    [InlineData(true, 9)]
    public void EveryFrameArrivesInOrderAndEveryCountedItemIsFinished(bool countsShortTailAsItem, int batch)
    {
        using var peer = new PeerWriter(_name, countsShortTailAsItem);
        peer.Connect();

        // 60 frames: five short tails, in the middle of a batch as well as at its end.
        Stream(peer, frames: 60, batch);

        Assert.Equal(ReadStatus.TimedOut, _reader.TryRead(out _, Safety.Short));
        ulong written = peer.Segment.U64(SpecLayout.PayloadWrittenCount);
        Assert.Equal(60UL + (countsShortTailAsItem ? 5UL : 0UL), written);
        Assert.Equal(written, peer.Segment.U64(SpecLayout.PayloadReadCount));
        Assert.Equal((ulong)PayloadSize, peer.FreeBytes);
    }

    [Fact]
    public void AnExtraCountIsTakenForAPhantomOnlyWhileAShortTailIsUnaccountedFor()
    {
        // The C++ convention. Frames 11 and 12 (after the short tail) are both counted when the reader passes the tail,
        // so it cannot yet tell the conventions apart.
        using var peer = new PeerWriter(_name);
        peer.Connect();
        Stream(peer, frames: 10, batch: 10);
        for (ulong sequence = 11; sequence <= 14; sequence += 2)
        {
            peer.WriteFrame(Patterns.Create(FrameLength, sequence), sequence);
            peer.WriteFrame(Patterns.Create(FrameLength, sequence + 1), sequence + 1);
            ReadInOrder(sequence);
            ReadInOrder(sequence + 1);
        }

        // One count too many with the cursor at write_pos, as a Python writer leaves it: taken for that tail's phantom.
        peer.Segment.SetU64(SpecLayout.PayloadWrittenCount, peer.WrittenCount + 1);
        Assert.Equal(ReadStatus.TimedOut, _reader.TryRead(out _, Safety.Short));

        // Once the count is exact again, one more is corruption: the bytes at the cursor are frame 5 of the lap before.
        peer.Segment.SetU64(SpecLayout.PayloadWrittenCount, peer.WrittenCount + 1);
        var corrupted = Assert.Throws<BufferCorruptedException>(() => _reader.TryRead(out _, Safety.Short));
        Assert.Contains("sequence gap: expected 15, got 5", corrupted.Message, StringComparison.Ordinal);
    }
}
