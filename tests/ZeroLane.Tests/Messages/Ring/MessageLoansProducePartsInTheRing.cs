using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>
/// <see cref="FrameMessages.BeginMessage"/> hands out the body and parts as spans of the loaned frame:
/// what is filled in place is the message, with nothing copied; an abandoned loan publishes nothing.
/// </summary>
public sealed class MessageLoansProducePartsInTheRing : BufferTest
{
    [Fact]
    public void PartsFilledInTheLoanArriveAsAMessage()
    {
        string name = NewName("msg-loan");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        int[] lengths = [1000, 0, 2000];

        using (MessageLoan loan = writer.BeginMessage(16, lengths, Safety.Timeout))
        {
            Assert.Equal(3, loan.PartCount);
            Patterns.Fill(loan.Body, 4);
            for (int i = 0; i < lengths.Length; i++)
            {
                Assert.Equal(lengths[i], loan.GetPart(i).Length);
                Patterns.Fill(loan.GetPart(i), PatternedMessages.PartSeed(4, i));
            }
            loan.Commit(lengths[^1]);
        }
        using Message received = reader.ReadMessage(Safety.Timeout);

        PatternedMessages.AssertMatches(received, 4, 16, lengths);
        Assert.Equal(MessageEncoding.HeaderSize(3) + 3016, writer.BytesWritten);
    }

    [Fact]
    public void TheLoanedPartsAreTheFrameItself()
    {
        string name = NewName("msg-loan-place");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);

        using (MessageLoan loan = writer.BeginMessage(4, [8, 8], Safety.Timeout))
        {
            loan.Body.Fill(1);
            loan.GetPart(0).Fill(2);
            loan.GetPart(1).Fill(3);
            loan.Commit(8);
        }
        using Frame frame = reader.Read(Safety.Timeout);

        // Header, then body, then the parts, back to back in the one frame.
        Assert.Equal(MessageEncoding.HeaderSize(2) + 20, frame.Length);
        byte[] content = frame.Span[MessageEncoding.HeaderSize(2)..].ToArray();
        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3], content);
    }

    [Fact]
    public void AnAbandonedLoanPublishesNothingAndTheNextOneGoesThrough()
    {
        string name = NewName("msg-loan-abandon");
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);

        using (MessageLoan loan = writer.BeginMessage(8, [100], Safety.Timeout))
        {
            loan.GetPart(0).Fill(9);
        }
        Assert.Equal(ReadStatus.TimedOut, reader.TryReadMessage(out _, Safety.Short));

        MessageLoan second = writer.BeginMessage(0, [3], Safety.Timeout);
        second.GetPart(0).Fill(7);
        second.Commit(3);
        Assert.Throws<ObjectDisposedException>(() => second.GetPart(0).Length);
        using Message received = reader.ReadMessage(Safety.Timeout);
        Assert.Equal([7, 7, 7], received.GetPart(0).ToArray());
        Assert.Equal(1, writer.FramesWritten);
    }
}
