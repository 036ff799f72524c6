using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Once warmed up, writing, reading and releasing frames allocates nothing on the calling thread, whichever
/// way the frame is written or read and whichever wait strategy is configured.
/// </summary>
public sealed class SteadyStateAllocation : BufferTest
{
    private const int Warmup = 2_000;
    private const int Measured = 10_000;

    public static TheoryData<WaitStrategy, int, string> Cases
    {
        get
        {
            var cases = new TheoryData<WaitStrategy, int, string>();
            foreach (WaitStrategy strategy in Enum.GetValues<WaitStrategy>())
            {
                foreach (int size in new[] { 64, 64 * 1024 })
                {
                    foreach (string mode in new[] { "Write+TryRead", "Loan+TryRead", "Write+Read", "BufferWriter+TryRead", "WriteSequence+TryRead" })
                    {
                        cases.Add(strategy, size, mode);
                    }
                }
            }
            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WriteReadAndReleaseAllocateNothingPerFrame(WaitStrategy strategy, int size, string mode)
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1 << 20, WaitStrategy = strategy });
        using var writer = new RingWriter(name, new WriterOptions { WaitStrategy = strategy });
        byte[] data = Patterns.Create(size, seed: 1);
        var sequence = SequenceBuilder.From(data[..(size / 2)], data[(size / 2)..]);
        long checksum = 0;

        void Cycle()
        {
            switch (mode)
            {
                case "Loan+TryRead":
                {
                    FrameLoan loan = writer.Loan(size, Safety.Timeout);
                    data.CopyTo(loan.Span);
                    loan.Commit(size);
                    break;
                }
                case "BufferWriter+TryRead":
                {
                    FrameLoan loan = writer.Loan(size, Safety.Timeout);
                    System.Buffers.IBufferWriter<byte> bufferWriter = loan.BufferWriter;
                    data.CopyTo(bufferWriter.GetSpan(size));
                    bufferWriter.Advance(size);
                    loan.Commit(loan.WrittenCount);
                    break;
                }
                case "WriteSequence+TryRead":
                    writer.Write(sequence, Safety.Timeout);
                    break;
                default:
                    writer.Write(data, Safety.Timeout);
                    break;
            }
            Frame frame;
            if (mode == "Write+Read")
            {
                frame = reader.Read(Safety.Timeout);
            }
            else
            {
                // Not Assert.Equal: the check itself must not allocate.
                if (reader.TryRead(out frame, Safety.Timeout) != ReadStatus.Success)
                {
                    throw new InvalidOperationException("TryRead found no frame although one was written.");
                }
            }
            checksum += frame.Span[size - 1] + frame.Length;
            frame.Dispose();
        }

        long allocated = SteadyState.AllocatedBytes(Cycle, Warmup, Measured);

        Assert.True(allocated == 0, $"{allocated} bytes allocated over {Measured} frames ({(double)allocated / Measured:F2} per frame)");
        Assert.Equal((Warmup + 2 * Measured) * (long)(data[size - 1] + size), checksum);
    }
}
