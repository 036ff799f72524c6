using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Frames that can never be placed fail at once (defect 3), frames whose size would always leave a short
/// tail are refused, and zero-length frames, which would read as wrap markers, are rejected (defect 2).
/// </summary>
public sealed class FrameSizeLimits : BufferTest
{
    private const int PayloadSize = 1024;
    private readonly RingReader _reader;
    private readonly RingWriter _writer;

    public FrameSizeLimits()
    {
        string name = NewName();
        _reader = new RingReader(name, new BufferOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        _writer = new RingWriter(name);
    }

    public override void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
        base.Dispose();
    }

    public static TheoryData<int> ShortTailSizes => new(Enumerable.Range(PayloadSize - 31, 15)); // P-32 < size < P-16

    [Theory]
    [MemberData(nameof(ShortTailSizes))]
    public void ASizeThatWouldAlwaysLeaveAShortTailFailsAtOnceAsTooLarge(int size)
    {
        Task<WriteStatus> attempt = Safety.OnThread(() => _writer.TryWrite(new byte[size], Timeout.InfiniteTimeSpan));

        var refused = Assert.Throws<FrameTooLargeException>(() => Safety.Join(attempt, $"the write of {size} bytes"));
        Assert.Contains(size.ToString(System.Globalization.CultureInfo.InvariantCulture), refused.Message, StringComparison.Ordinal);
        Assert.Throws<FrameTooLargeException>(() => _writer.Write(SequenceBuilder.From(new byte[size - 1], new byte[1]), Timeout.InfiniteTimeSpan));
        Assert.Equal(0, _writer.FramesWritten);
    }

    [Theory]
    [InlineData(PayloadSize - 32)]
    [InlineData(PayloadSize - 16)]
    public void TheSizesJustOutsideTheShortTailRangeWork(int size)
    {
        _writer.Write(Patterns.Create(size, seed: 1), Safety.Timeout);

        using Frame frame = _reader.Read(Safety.Timeout);
        Patterns.AssertMatches(frame.Span, size, seed: 1);
    }

    [Theory]
    [InlineData(PayloadSize - 15)]
    [InlineData(PayloadSize)]
    [InlineData(10 * PayloadSize)]
    public void AFrameLargerThanTheBlockLessAHeaderFailsAtOnceAsTooLarge(int size)
    {
        Task<WriteStatus> attempt = Safety.OnThread(() => _writer.TryWrite(new byte[size], Timeout.InfiniteTimeSpan));

        Assert.Throws<FrameTooLargeException>(() => Safety.Join(attempt, $"the write of {size} bytes"));
        Assert.Throws<FrameTooLargeException>(() => _writer.Loan(size, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void AFrameTooLargeFailsAtOnceEvenWhileTheBufferIsFull()
    {
        _writer.Write(new byte[PayloadSize - 16], Safety.Timeout);

        Assert.Throws<FrameTooLargeException>(() => _writer.TryWrite(new byte[PayloadSize], Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void ZeroLengthFramesAreRejectedWithArgumentException()
    {
        Assert.Throws<ArgumentException>(() => _writer.Write(ReadOnlySpan<byte>.Empty, Safety.Timeout));
        Assert.Throws<ArgumentException>(() => _writer.TryWrite(Array.Empty<byte>(), Safety.Timeout));
        Assert.Throws<ArgumentException>(() => _writer.Write(Array.Empty<byte>()));
        Assert.ThrowsAny<ArgumentException>(() => _writer.Loan(0, Safety.Timeout));
        Assert.ThrowsAny<ArgumentException>(() => _writer.Loan(-1, Safety.Timeout));
        Assert.Equal(0UL, _reader.GetStats().FramesWritten);
    }

    [Fact]
    public async Task ZeroLengthAsyncWritesAreRejectedWithArgumentException()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await _writer.WriteAsync(ReadOnlyMemory<byte>.Empty));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await _writer.LoanAsync(0));
        Assert.Equal(0UL, _reader.GetStats().FramesWritten);
    }

    [Fact]
    public void MaxFrameLengthIsTheBlockLessOneHeader()
    {
        Assert.Equal(PayloadSize - 16, _writer.MaxFrameLength);
        Assert.Equal(PayloadSize, _writer.PayloadCapacity);
    }
}
