using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>
/// Frames written by hand into a RingReader's segment, as a reference peer writer writes them (including wrap
/// markers and the short tails some peers leave), are read correctly, and the reader's own updates to the
/// OIEB (read_pos, read_count, free bytes, sem-r) follow the spec.
/// </summary>
public sealed class ReaderInputFromAPeerWriter : BufferTest
{
    private const int PayloadSize = 1024;
    private readonly RingReader _reader;
    private readonly PeerWriter _peer;

    public ReaderInputFromAPeerWriter()
    {
        string name = NewName();
        _reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        _peer = new PeerWriter(name);
        _peer.Connect();
    }

    public override void Dispose()
    {
        _peer.Dispose();
        _reader.Dispose();
        base.Dispose();
    }

    private ulong ReadPosition => _peer.Segment.U64(SpecLayout.PayloadReadPos);

    private ulong ReadCount => _peer.Segment.U64(SpecLayout.PayloadReadCount);

    [Fact]
    public void FramesWrittenByAPeerArriveInPlaceWithTheirSequenceNumbers()
    {
        _peer.WriteFrame(Patterns.Create(100, seed: 1), sequence: 1);
        _peer.WriteFrame(Patterns.Create(50, seed: 2), sequence: 2);

        using (Frame first = _reader.Read(Safety.Timeout))
        using (Frame second = _reader.Read(Safety.Timeout))
        {
            Assert.Equal(1UL, first.Sequence);
            Patterns.AssertMatches(first.Span, 100, seed: 1);
            Assert.Equal(2UL, second.Sequence);
            Patterns.AssertMatches(second.Span, 50, seed: 2);
        }

        Assert.Equal(182UL, ReadPosition);
        Assert.Equal(2UL, ReadCount);
        Assert.Equal((ulong)PayloadSize, _peer.FreeBytes);
    }

    [Fact]
    public void ReadPosReadCountAndFreeBytesArePublishedAtReleaseInRingOrder()
    {
        for (ulong i = 1; i <= 4; i++)
        {
            _peer.WriteFrame(new byte[240], sequence: i); // fills the block exactly
        }
        Frame[] frames = [.. Enumerable.Range(0, 4).Select(_ => _reader.Read(Safety.Timeout))];
        Assert.Equal(0UL, ReadCount);

        frames[1].Dispose();
        frames[3].Dispose();

        Assert.Equal(0UL, ReadPosition);
        Assert.Equal(0UL, ReadCount);
        Assert.Equal(0UL, _peer.FreeBytes);

        frames[0].Dispose();

        Assert.Equal(512UL, ReadPosition);
        Assert.Equal(2UL, ReadCount);
        Assert.Equal(512UL, _peer.FreeBytes);
        frames[2].Dispose();
        Assert.Equal(0UL, ReadPosition);
        Assert.Equal(4UL, ReadCount);
        Assert.Equal((ulong)PayloadSize, _peer.FreeBytes);
    }

    [Fact]
    public void AWrapMarkerFromAPeerLeadsToTheFrameAtOffsetZero()
    {
        _peer.WriteFrame(Patterns.Create(600, seed: 1), sequence: 1);
        _reader.Read(Safety.Timeout).Dispose();

        _peer.WriteFrame(Patterns.Create(500, seed: 2), sequence: 2); // marker at 616, frame at 0
        Assert.Equal(3UL, _peer.WrittenCount);

        using (Frame frame = _reader.Read(Safety.Timeout))
        {
            Assert.Equal(2UL, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 500, seed: 2);
        }
        Assert.Equal(516UL, ReadPosition);
        Assert.Equal(3UL, ReadCount);
        Assert.Equal((ulong)PayloadSize, _peer.FreeBytes);
    }

    public static TheoryData<int> Tails => new(Enumerable.Range(1, 15));

    [Theory]
    [MemberData(nameof(Tails))]
    public void AShortTailLeftByAPeerWithoutAMarkerIsReadAsAnImplicitWrap(int tail)
    {
        _peer.WriteFrame(Patterns.Create(PayloadSize - 16 - tail, seed: 1), sequence: 1); // ends `tail` bytes before the end
        Assert.Equal((long)(PayloadSize - tail), _peer.WritePosition);
        using (Frame first = _reader.Read(Safety.Timeout))
        {
            Patterns.AssertMatches(first.Span, PayloadSize - 16 - tail, seed: 1);
        }

        _peer.WriteFrame(Patterns.Create(100, seed: 2), sequence: 2); // no room for a marker: straight to offset 0
        Assert.Equal(2UL, _peer.WrittenCount);

        using (Frame second = _reader.Read(Safety.Timeout))
        {
            Assert.Equal(2UL, second.Sequence);
            Patterns.AssertMatches(second.Span, 100, seed: 2);
        }
        Assert.Equal(116UL, ReadPosition);
        Assert.Equal(2UL, ReadCount);
        Assert.Equal((ulong)PayloadSize, _peer.FreeBytes);
    }

    [Fact]
    public void AnExactFitFrameFromAPeerIsFollowedByTheNextFrameAtOffsetZero()
    {
        _peer.WriteFrame(Patterns.Create(PayloadSize - 16, seed: 1), sequence: 1);
        Assert.Equal(0L, _peer.WritePosition);
        _reader.Read(Safety.Timeout).Dispose();

        _peer.WriteFrame(Patterns.Create(10, seed: 2), sequence: 2);

        using Frame frame = _reader.Read(Safety.Timeout);
        Patterns.AssertMatches(frame.Span, 10, seed: 2);
    }

    [Fact]
    public void ReleasingPostsTheReadSemaphoreOnceCaughtUpAndKeepsItAtMostOne()
    {
        for (ulong i = 1; i <= 3; i++)
        {
            _peer.WriteFrame(new byte[10], sequence: i);
        }
        Assert.Equal(0, _peer.ReadSemaphoreValue);

        for (int i = 0; i < 3; i++)
        {
            _reader.Read(Safety.Timeout).Dispose();
            // Credit (and its post) may be batched while frames remain unread, but never exceeds one unit.
            Assert.InRange(_peer.ReadSemaphoreValue, 0, 1);
        }
        // Caught up: every release has been published and the writer woken.
        Assert.Equal(1, _peer.ReadSemaphoreValue);
    }

    [Fact]
    public void APeersGracefulEndIsReportedAfterItsLastFrame()
    {
        _peer.WriteFrame(new byte[] { 7 }, sequence: 1);
        _peer.Disconnect();

        using (Frame last = _reader.Read(Safety.Timeout))
        {
            Assert.Equal(7, last.Span[0]);
        }
        Assert.Equal(ReadStatus.WriterDisconnected, _reader.TryRead(out _, Safety.Timeout));
    }

    [Fact]
    public void ThePeersMetadataIsReturnedWithoutItsLengthPrefix()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 256, PayloadSize = 1024 });
        using var raw = RawSegment.Open(name);
        Patterns.Fill(raw.Bytes(128 + 8, 40), seed: 3);
        raw.SetU64(128, 40);
        raw.SetU64(SpecLayout.MetadataFreeBytes, 256 - 48);
        raw.SetU64(SpecLayout.MetadataWrittenBytes, 48);

        Assert.True(reader.HasMetadata);
        Patterns.AssertMatches(reader.GetMetadata(), 40, seed: 3);
    }
}
