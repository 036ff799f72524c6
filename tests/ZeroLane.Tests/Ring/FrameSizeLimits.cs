using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Frames that can never be placed fail at once (defect 3), frames whose size would always leave a short
/// tail are refused, and zero-length frames, which would read as wrap markers, are rejected (defect 2).
/// </summary>
public sealed class FrameSizeLimits : RingPairTest
{
    private const int PayloadSize = 1024;

    public FrameSizeLimits()
        : base(new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize })
    {
    }

    public static TheoryData<int> ShortTailSizes => new(Enumerable.Range(PayloadSize - 31, 15)); // P-32 < size < P-16

    [Theory]
    [MemberData(nameof(ShortTailSizes))]
    public void ASizeThatWouldAlwaysLeaveAShortTailFailsAtOnceAsTooLarge(int size)
    {
        Task<WriteStatus> attempt = Safety.OnThread(() => Writer.TryWrite(new byte[size], Timeout.InfiniteTimeSpan));

        var refused = Assert.Throws<FrameTooLargeException>(() => Safety.Join(attempt, $"the write of {size} bytes"));
        Assert.Contains(size.ToString(System.Globalization.CultureInfo.InvariantCulture), refused.Message, StringComparison.Ordinal);
        Assert.Throws<FrameTooLargeException>(() => Writer.Write(SequenceBuilder.From(new byte[size - 1], new byte[1]), Timeout.InfiniteTimeSpan));
        Assert.Equal(0, Writer.FramesWritten);
    }

    [Theory]
    [InlineData(PayloadSize - 32)]
    [InlineData(PayloadSize - 16)]
    public void TheSizesJustOutsideTheShortTailRangeWork(int size)
    {
        Writer.Write(Patterns.Create(size, seed: 1), Safety.Timeout);

        using Frame frame = Reader.Read(Safety.Timeout);
        Patterns.AssertMatches(frame.Span, size, seed: 1);
    }

    [Theory]
    [InlineData(PayloadSize - 15)]
    [InlineData(PayloadSize)]
    [InlineData(10 * PayloadSize)]
    public void AFrameLargerThanTheBlockLessAHeaderFailsAtOnceAsTooLarge(int size)
    {
        Task<WriteStatus> attempt = Safety.OnThread(() => Writer.TryWrite(new byte[size], Timeout.InfiniteTimeSpan));

        Assert.Throws<FrameTooLargeException>(() => Safety.Join(attempt, $"the write of {size} bytes"));
        Assert.Throws<FrameTooLargeException>(() => Writer.Loan(size, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void AFrameTooLargeFailsAtOnceEvenWhileTheBufferIsFull()
    {
        Writer.Write(new byte[PayloadSize - 16], Safety.Timeout);

        Assert.Throws<FrameTooLargeException>(() => Writer.TryWrite(new byte[PayloadSize], Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void ZeroLengthFramesAreRejectedWithArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Writer.Write(ReadOnlySpan<byte>.Empty, Safety.Timeout));
        Assert.Throws<ArgumentException>(() => Writer.TryWrite(Array.Empty<byte>(), Safety.Timeout));
        Assert.Throws<ArgumentException>(() => Writer.Write(Array.Empty<byte>()));
        Assert.ThrowsAny<ArgumentException>(() => Writer.Loan(0, Safety.Timeout));
        Assert.ThrowsAny<ArgumentException>(() => Writer.Loan(-1, Safety.Timeout));
        Assert.Equal(0UL, Reader.GetStats().FramesWritten);
    }

    [Fact]
    public async Task ZeroLengthAsyncWritesAreRejectedWithArgumentException()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Writer.WriteAsync(ReadOnlyMemory<byte>.Empty));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Writer.LoanAsync(0));
        Assert.Equal(0UL, Reader.GetStats().FramesWritten);
    }

    [Fact]
    public void MaxFrameLengthIsTheBlockLessOneHeader()
    {
        Assert.Equal(PayloadSize - 16, Writer.MaxFrameLength);
        Assert.Equal(PayloadSize, Writer.PayloadCapacity);
    }
}
