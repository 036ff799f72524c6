using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Defect 1: a frame that would leave 1 to 15 bytes before the end of the block (no room for a wrap marker)
/// is wrapped early instead, so the next header never starts within 16 bytes of the end; and all frames arrive.
/// </summary>
public sealed class ShortTailsAreNeverLeft : BufferTest
{
    private const int PayloadSize = 1024;

    public static TheoryData<int> Tails => new(Enumerable.Range(1, 15));

    private static void AssertNoShortTail(RawSegment raw, string after)
    {
        long tail = PayloadSize - (long)raw.U64(SpecLayout.PayloadWritePos);
        Assert.False(tail is >= 1 and <= 15, $"after {after}, write_pos leaves a {tail}-byte tail before the end of the block");
    }

    [Theory]
    [MemberData(nameof(Tails))]
    public void AFrameThatWouldLeaveAShortTailIsWrappedToTheStartWithAMarker(int tail)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);
        long payload = SpecLayout.PayloadOffset(0);
        writer.Write(Patterns.Create(496, seed: 1), Safety.Timeout); // write_pos 512
        reader.Read(Safety.Timeout).Dispose();
        int size = PayloadSize - 512 - 16 - tail; // would end exactly `tail` bytes before the end

        writer.Write(Patterns.Create(size, seed: 2), Safety.Timeout);

        AssertNoShortTail(raw, $"a {size}-byte frame at 512");
        Assert.Equal((ulong)(16 + size), raw.U64(SpecLayout.PayloadWritePos));
        Assert.True(raw.Bytes(payload + 512, 16).IndexOfAnyExcept((byte)0) < 0, "a wrap marker at the old write position");
        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal(2UL, frame.Sequence);
        Patterns.AssertMatches(frame.Span, size, seed: 2);
    }

    [Theory]
    [MemberData(nameof(Tails))]
    public void AFrameThatWouldLeaveAShortTailWaitsForAHeldFrameThenWraps(int tail)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);
        writer.Write(Patterns.Create(496, seed: 1), Safety.Timeout);
        Frame held = reader.Read(Safety.Timeout);
        int size = PayloadSize - 512 - 16 - tail;
        Assert.Equal(WriteStatus.TimedOut, writer.TryWrite(Patterns.Create(size, seed: 2), Safety.Short));
        AssertNoShortTail(raw, "a timed-out write");

        held.Dispose();
        Task<ulong> reading = Safety.OnThread(() =>
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Patterns.AssertMatches(frame.Span, size, seed: 2);
            return frame.Sequence;
        });
        writer.Write(Patterns.Create(size, seed: 2), Safety.Timeout);

        AssertNoShortTail(raw, $"a {size}-byte frame");
        Assert.Equal(2UL, Safety.Join(reading, "the reader"));
    }

    [Fact]
    public void ThousandsOfFramesOfVaryingSizeNeverLeaveAShortTailAndAllArrive()
    {
        const int frames = 3000;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);
        var tails = new List<long>();

        Task writing = Safety.OnThread(() =>
        {
            for (int i = 1; i <= frames; i++)
            {
                writer.Write(Patterns.Create(SizeOf(i), seed: (ulong)i), Safety.Timeout);
                // write_pos belongs to this (the writing) thread, so reading it here sees exactly this write's result.
                long tail = PayloadSize - (long)raw.U64(SpecLayout.PayloadWritePos);
                if (tail is >= 1 and <= 15)
                {
                    lock (tails)
                    {
                        tails.Add(tail);
                    }
                }
            }
        });
        for (int i = 1; i <= frames; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
            Patterns.AssertMatches(frame.Span, SizeOf(i), seed: (ulong)i);
        }
        Safety.Join(writing, "the writer");

        Assert.Empty(tails);
    }

    /// <summary>Sizes that hit every tail length: up to about half the block, stepping unevenly.</summary>
    private static int SizeOf(int i) => 1 + (int)((uint)(i * 2654435761u) % 500);

    [Theory]
    [MemberData(nameof(Tails))]
    public void ALoanCommittedInFullNeverLeavesAShortTail(int tail)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);
        int size = PayloadSize - 16 - tail;

        // Refusing such a loan outright (as Write refuses such a frame) would also be correct.
        WriteStatus status;
        FrameLoan loan;
        try
        {
            status = writer.TryLoan(size, out loan, Safety.Timeout);
        }
        catch (FrameTooLargeException)
        {
            return;
        }
        Assert.Equal(WriteStatus.Success, status);
        Patterns.Fill(loan.Span, seed: 1);
        loan.Commit(size);

        AssertNoShortTail(raw, $"a {size}-byte loan committed in full at offset 0");
    }

    [Theory]
    [MemberData(nameof(Tails))]
    public void AnExactFitLoanCommittedWithFewerBytesNeverLeavesAShortTail(int tail)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        using var writer = new RingWriter(name);
        using var raw = RawSegment.Open(name);
        FrameLoan loan = writer.Loan(PayloadSize - 16, Safety.Timeout);
        int committed = PayloadSize - 16 - tail;

        Exception? refused = Record.Exception(() => loan.Commit(committed));

        if (refused is null)
        {
            AssertNoShortTail(raw, $"an exact-fit loan committed with {committed} bytes");
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal(committed, frame.Length);
        }
        else
        {
            Assert.IsAssignableFrom<ArgumentException>(refused);
        }
    }
}
