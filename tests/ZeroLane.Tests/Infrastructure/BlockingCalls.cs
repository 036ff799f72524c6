using ZeroLane.Buffers;
using Xunit;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// The blocking calls of a reader (on an empty buffer) and a writer (on a full one), by name, so that each
/// cancellation and timeout behaviour is checked for every one of them.
/// </summary>
internal sealed class BlockingCalls : IDisposable
{
    internal const int PayloadSize = 1024;
    internal const int FrameLength = 240; // four of these fill the block exactly

    internal static readonly TheoryData<string> ReaderCalls = new() { "Read", "ReadWithTimeout", "TryRead" };

    internal static readonly TheoryData<string> WriterCalls = new()
    {
        "Write", "WriteWithTimeout", "TryWrite", "WriteSequence", "WriteSequenceWithTimeout", "TryWriteSequence", "Loan", "LoanWithTimeout", "TryLoan",
    };

    internal BlockingCalls(string name, WaitStrategy strategy = WaitStrategy.SpinThenBlock)
    {
        Reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize, WaitStrategy = strategy });
        Writer = new RingWriter(name, new WriterOptions { WaitStrategy = strategy });
    }

    internal RingReader Reader { get; }

    internal RingWriter Writer { get; }

    /// <summary>Fills the payload block so that every writer call must wait.</summary>
    internal void FillBuffer()
    {
        for (int i = 0; i < 4; i++)
        {
            Writer.Write(new byte[FrameLength], Safety.Timeout);
        }
    }

    /// <summary>Runs a reader call that must wait; returns the status for Try calls (Success for the others).</summary>
    internal ReadStatus RunReader(string call, TimeSpan timeout, CancellationToken token)
    {
        switch (call)
        {
            case "Read":
                Reader.Read(token).Dispose();
                return ReadStatus.Success;
            case "ReadWithTimeout":
                Reader.Read(timeout, token).Dispose();
                return ReadStatus.Success;
            case "TryRead":
                ReadStatus status = Reader.TryRead(out Frame frame, timeout, token);
                frame.Dispose();
                return status;
            default:
                throw new ArgumentOutOfRangeException(nameof(call), call, null);
        }
    }

    /// <summary>Runs a writer call that must wait; returns the status for Try calls (Success for the others).</summary>
    internal WriteStatus RunWriter(string call, TimeSpan timeout, CancellationToken token)
    {
        byte[] data = new byte[FrameLength];
        switch (call)
        {
            case "Write":
                Writer.Write(data, token);
                return WriteStatus.Success;
            case "WriteWithTimeout":
                Writer.Write(data, timeout, token);
                return WriteStatus.Success;
            case "TryWrite":
                return Writer.TryWrite(data, timeout, token);
            case "WriteSequence":
                Writer.Write(SequenceBuilder.From(data[..100], data[100..]), token);
                return WriteStatus.Success;
            case "WriteSequenceWithTimeout":
                Writer.Write(SequenceBuilder.From(data[..100], data[100..]), timeout, token);
                return WriteStatus.Success;
            case "TryWriteSequence":
                return Writer.TryWrite(SequenceBuilder.From(data[..100], data[100..]), timeout, token);
            case "Loan":
                Writer.Loan(FrameLength, token).Commit(FrameLength);
                return WriteStatus.Success;
            case "LoanWithTimeout":
                Writer.Loan(FrameLength, timeout, token).Commit(FrameLength);
                return WriteStatus.Success;
            case "TryLoan":
                WriteStatus status = Writer.TryLoan(FrameLength, out FrameLoan loan, timeout, token);
                if (status == WriteStatus.Success)
                {
                    loan.Commit(FrameLength);
                }
                return status;
            default:
                throw new ArgumentOutOfRangeException(nameof(call), call, null);
        }
    }

    public void Dispose()
    {
        Writer.Dispose();
        Reader.Dispose();
    }
}
