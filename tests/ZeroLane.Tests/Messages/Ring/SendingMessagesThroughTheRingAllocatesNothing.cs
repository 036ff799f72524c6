using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>Once warmed up, writing a message into the ring (copied or produced in a loan) allocates nothing on the calling thread.</summary>
public sealed class SendingMessagesThroughTheRingAllocatesNothing : BufferTest
{
    private const int Warmup = 1_000;
    private const int Measured = 5_000;

    [Theory]
    [InlineData("TryWriteMessage")]
    [InlineData("WriteMessage")]
    [InlineData("BeginMessage")]
    public void WritingAMessageAllocatesNothingPerMessage(string mode)
    {
        string name = NewName("msg-alloc");
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        using Message message = PatternedMessages.Create(1, 64, 4096, 0, 8192, 100);
        int[] lengths = [4096, 0, 8192, 100];
        long allocated = 0;
        long checksum = 0;

        void Cycle(bool measure)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            switch (mode)
            {
                case "TryWriteMessage":
                    if (writer.TryWriteMessage(message, Safety.Timeout) != WriteStatus.Success)
                    {
                        throw new InvalidOperationException("The message was not written.");
                    }
                    break;
                case "WriteMessage":
                    writer.WriteMessage(message, Safety.Timeout);
                    break;
                default:
                    MessageLoan loan = writer.BeginMessage(64, lengths, Safety.Timeout);
                    loan.Body[0] = 1;
                    loan.GetPart(2)[8191] = 2;
                    loan.Commit(lengths[^1]);
                    break;
            }
            if (measure)
            {
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            }
            // The read side is not measured (decoding a message allocates it); read the raw frame instead.
            if (reader.TryRead(out Frame frame, Safety.Timeout) != ReadStatus.Success)
            {
                throw new InvalidOperationException("No frame although one was written.");
            }
            checksum += frame.Length;
            frame.Dispose();
        }

        for (int i = 0; i < Warmup; i++)
        {
            Cycle(measure: false);
        }
        for (int i = 0; i < Measured; i++)
        {
            Cycle(measure: true);
        }

        Assert.True(allocated == 0, $"{allocated} bytes allocated over {Measured} messages ({(double)allocated / Measured:F2} per message)");
        Assert.Equal((Warmup + Measured) * MessageEncoding.TotalLength(message), checksum);
    }
}
