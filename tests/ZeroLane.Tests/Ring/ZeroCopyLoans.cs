using System.Buffers;
using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Zero-copy writes: a loaned region is filled in place and committed (or abandoned).</summary>
public sealed class ZeroCopyLoans : BufferTest
{
    private readonly string _name;
    private readonly RingReader _reader;
    private readonly RingWriter _writer;

    public ZeroCopyLoans()
    {
        _name = NewName();
        _reader = new RingReader(_name, new ReaderOptions { MetadataSize = 0, PayloadSize = 64 * 1024 });
        _writer = new RingWriter(_name);
    }

    public override void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
        base.Dispose();
    }

    [Fact]
    public void ALoanOf4096BytesFilledInPlaceAndCommittedArrivesExactly()
    {
        FrameLoan loan = _writer.Loan(4096, Safety.Timeout);
        Assert.Equal(4096, loan.Capacity);
        Patterns.Fill(loan.Span, seed: 42);
        loan.Commit(4096);

        using Frame frame = _reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
        Patterns.AssertMatches(frame.Span, 4096, seed: 42);
    }

    [Fact]
    public void ALoanCommittedWithFewerBytesThanLoanedPublishesOnlyThoseBytes()
    {
        FrameLoan loan = _writer.Loan(4096, Safety.Timeout);
        Patterns.Fill(loan.Span, seed: 5);
        loan.Commit(1000);
        _writer.Write(Patterns.Create(10, seed: 6), Safety.Timeout);

        using (Frame frame = _reader.Read(Safety.Timeout))
        {
            Patterns.AssertMatches(frame.Span, 1000, seed: 5);
        }
        using (Frame next = _reader.Read(Safety.Timeout))
        {
            Assert.Equal(2UL, next.Sequence);
            Patterns.AssertMatches(next.Span, 10, seed: 6);
        }
        Assert.Equal(64 * 1024, _reader.GetStats().FreeBytes);
    }

    [Fact]
    public void AnAbandonedLoanPublishesNothingAndConsumesNoSequenceNumber()
    {
        FrameLoan loan = _writer.Loan(4096, Safety.Timeout);
        loan.Span.Fill(0xAB);
        loan.Abandon();

        Assert.Equal(ReadStatus.TimedOut, _reader.TryRead(out _, Safety.Short));
        _writer.Write(Patterns.Create(64, seed: 3), Safety.Timeout);
        using Frame frame = _reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
        Patterns.AssertMatches(frame.Span, 64, seed: 3);
        Assert.Equal(1UL, _reader.GetStats().FramesWritten);
    }

    [Fact]
    public void DisposingALoanWithoutCommittingAbandonsIt()
    {
        using (FrameLoan loan = _writer.Loan(100, Safety.Timeout))
        {
            loan.Span.Fill(1);
        }

        Assert.Equal(ReadStatus.TimedOut, _reader.TryRead(out _, Safety.Short));
        Assert.Equal(0, _writer.FramesWritten);
        Assert.Equal(64 * 1024, _writer.GetStats().FreeBytes);
    }

    [Fact]
    public void ALoanFilledThroughItsBufferWriterCommitsWhatWasAdvanced()
    {
        FrameLoan loan = _writer.Loan(100, Safety.Timeout);
        IBufferWriter<byte> bufferWriter = loan.BufferWriter;
        int n = Encoding.ASCII.GetBytes("hello", bufferWriter.GetSpan(5));
        bufferWriter.Advance(n);
        Memory<byte> memory = bufferWriter.GetMemory(6);
        n = Encoding.ASCII.GetBytes(" world", memory.Span);
        bufferWriter.Advance(n);
        Assert.Equal(11, loan.WrittenCount);
        loan.Commit(loan.WrittenCount);

        using Frame frame = _reader.Read(Safety.Timeout);
        Assert.Equal("hello world", Encoding.ASCII.GetString(frame.Span));
    }

    [Fact]
    public void ALoanCannotBeUsedAfterItIsCommitted()
    {
        FrameLoan loan = _writer.Loan(100, Safety.Timeout);
        loan.Commit(1);

        Assert.Throws<ObjectDisposedException>(() => loan.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => loan.Commit(1));
        loan.Dispose();
        loan.Abandon();
        using Frame frame = _reader.Read(Safety.Timeout);
        Assert.Equal(1, frame.Length);
    }

    [Fact]
    public void WritingOrLoaningAgainWhileALoanIsOpenIsRefused()
    {
        FrameLoan loan = _writer.Loan(100, Safety.Timeout);

        Assert.Throws<InvalidOperationException>(() => _writer.Write(new byte[1], Safety.Timeout));
        Assert.Throws<InvalidOperationException>(() => _writer.Loan(10, Safety.Timeout));

        loan.Commit(1);
        _writer.Write(new byte[1], Safety.Timeout);
    }

    [Fact]
    public void CommittingZeroBytesOrMoreThanLoanedIsRefused()
    {
        FrameLoan loan = _writer.Loan(100, Safety.Timeout);

        Assert.Throws<ArgumentOutOfRangeException>(() => loan.Commit(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => loan.Commit(101));
        loan.Abandon();
    }

    [Fact]
    public void ALoanCannotBeUsedOrCommittedAfterTheWriterIsDisposed()
    {
        FrameLoan loan = _writer.Loan(100, Safety.Timeout);

        _writer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => loan.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => loan.Commit(1));
        loan.Dispose();
        Assert.Equal(0UL, _reader.GetStats().FramesWritten);
    }
}
