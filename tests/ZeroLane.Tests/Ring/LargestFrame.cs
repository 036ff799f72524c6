using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>On a 100 MiB buffer the largest frame, the block less one header, works; one byte more is refused at once.</summary>
public sealed class LargestFrame : BufferTest
{
    private const int PayloadSize = 100 << 20;

    [Fact]
    public void AFrameOfTheBlockLessOneHeaderWorksAndOneByteMoreIsRefused()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        using var writer = new RingWriter(name);
        byte[] data = Patterns.CreateRandom(PayloadSize - 15, seed: 3);

        Assert.Throws<FrameTooLargeException>(() => writer.TryWrite(data, Timeout.InfiniteTimeSpan));
        Assert.Throws<FrameTooLargeException>(() => writer.Loan(PayloadSize - 15, Timeout.InfiniteTimeSpan));
        writer.Write(data.AsSpan(0, PayloadSize - 16), Safety.Timeout);

        using (Frame frame = reader.Read(Safety.Timeout))
        {
            Assert.Equal(PayloadSize - 16, frame.Length);
            Assert.True(frame.Span.SequenceEqual(data.AsSpan(0, PayloadSize - 16)));
        }
        Array.Reverse(data);
        FrameLoan loan = writer.Loan(PayloadSize - 16, Safety.Timeout);
        data.AsSpan(0, PayloadSize - 16).CopyTo(loan.Span);
        loan.Commit(PayloadSize - 16);
        using (Frame frame = reader.Read(Safety.Timeout))
        {
            Assert.Equal(2UL, frame.Sequence);
            Assert.True(frame.Span.SequenceEqual(data.AsSpan(0, PayloadSize - 16)));
        }
    }
}
