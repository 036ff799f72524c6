using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A frame of exactly the payload block less one header fits, again and again.</summary>
public sealed class ExactFit : BufferTest
{
    [Fact]
    public void A10224ByteFrameFitsA10240ByteBlockRepeatedly()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);

        for (int i = 1; i <= 20; i++)
        {
            writer.Write(Patterns.Create(10224, seed: (ulong)i), Safety.Timeout);
            Assert.Equal(0, reader.GetStats().FreeBytes);
            Assert.Equal(0UL, raw.U64(SpecLayout.PayloadWritePos));
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, 10224, seed: (ulong)i);
        }
    }

    [Fact]
    public void AnExactFitLoanAndAnExactFitWriteAlternate()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);

        for (int i = 1; i <= 10; i++)
        {
            if (i % 2 == 0)
            {
                FrameLoan loan = writer.Loan(10224, Safety.Timeout);
                Patterns.Fill(loan.Span, (ulong)i);
                loan.Commit(10224);
            }
            else
            {
                writer.Write(Patterns.Create(10224, seed: (ulong)i), Safety.Timeout);
            }
            using Frame frame = reader.Read(Safety.Timeout);
            Patterns.AssertMatches(frame.Span, 10224, seed: (ulong)i);
        }
    }

    [Fact]
    public void AnExactFitFrameWaitsForAnEarlierFrameToBeReleasedThenArrives()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        writer.Write(new byte[100], Safety.Timeout);
        Frame first = reader.Read(Safety.Timeout);

        Assert.Equal(WriteStatus.TimedOut, writer.TryWrite(new byte[10224], Safety.Short));
        first.Dispose();
        Task<ulong> reading = Safety.OnThread(() =>
        {
            using Frame frame = reader.Read(Safety.Timeout);
            return frame.Sequence;
        });

        Assert.Equal(WriteStatus.Success, writer.TryWrite(Patterns.Create(10224, seed: 2), Safety.Timeout));
        Assert.Equal(2UL, Safety.Join(reading, "the reader"));
    }
}
