using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Several frames may be held at once and released in any order, but their space returns to the writer in
/// ring order: while the oldest is held, releasing newer ones frees nothing.
/// </summary>
public sealed class HeldFrames : BufferTest
{
    private const int PayloadSize = 1024;
    private const int FrameTotal = 256; // 240 bytes + header: four fill the block exactly
    private readonly RingReader _reader;
    private readonly RingWriter _writer;

    public HeldFrames()
    {
        string name = NewName();
        _reader = new RingReader(name, new BufferOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        _writer = new RingWriter(name);
        for (ulong i = 1; i <= 4; i++)
        {
            _writer.Write(Patterns.Create(FrameTotal - 16, seed: i), Safety.Timeout);
        }
    }

    public override void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
        base.Dispose();
    }

    private long FreeBytes => _reader.GetStats().FreeBytes;

    private Frame[] ReadAll() => [.. Enumerable.Range(0, 4).Select(_ => _reader.Read(Safety.Timeout))];

    [Fact]
    public void SeveralHeldFramesStayReadableUntilEachIsReleased()
    {
        Frame[] frames = ReadAll();
        Assert.Equal(4, _reader.FramesHeld);

        frames[1].Dispose();

        Patterns.AssertMatches(frames[0].Span, FrameTotal - 16, seed: 1);
        Patterns.AssertMatches(frames[2].Span, FrameTotal - 16, seed: 3);
        Patterns.AssertMatches(frames[3].Span, FrameTotal - 16, seed: 4);
        Assert.True(frames[1].IsReleased);
        Assert.False(frames[0].IsReleased);
        Assert.Equal(3, _reader.FramesHeld);
        frames[3].Dispose();
        frames[0].Dispose();
        frames[2].Dispose();
        Assert.Equal(0, _reader.FramesHeld);
        Assert.Equal(PayloadSize, FreeBytes);
    }

    [Fact]
    public void ReleasingNewerFramesWhileTheOldestIsHeldFreesNoSpaceAndTheWriterStaysBlocked()
    {
        Frame[] frames = ReadAll();
        Assert.Equal(0, FreeBytes);

        frames[3].Dispose();
        frames[1].Dispose();
        frames[2].Dispose();

        Assert.Equal(0, FreeBytes);
        Assert.Equal(WriteStatus.TimedOut, _writer.TryWrite(new byte[FrameTotal - 16], Safety.Short));

        frames[0].Dispose();

        Assert.Equal(PayloadSize, FreeBytes);
        Assert.Equal(WriteStatus.Success, _writer.TryWrite(new byte[FrameTotal - 16], Safety.Timeout));
    }

    [Fact]
    public void ReleasingTheOldestCreditsItAndEveryReleasedFrameAfterItUpToTheFirstHeldOne()
    {
        Frame[] frames = ReadAll();

        frames[2].Dispose();
        frames[0].Dispose();
        Assert.Equal(FrameTotal, FreeBytes);

        frames[1].Dispose();
        Assert.Equal(3 * FrameTotal, FreeBytes);

        frames[3].Dispose();
        Assert.Equal(PayloadSize, FreeBytes);
    }

    [Fact]
    public void ReleaseThroughTheReaderIsTheSameAsDisposingTheFrame()
    {
        Frame first = _reader.Read(Safety.Timeout);

        _reader.Release(first);

        Assert.True(first.IsReleased);
        Assert.Equal(FrameTotal, FreeBytes);
    }
}
