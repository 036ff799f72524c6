using System.Buffers;

namespace ZeroLane.Buffers;

public sealed partial class RingWriter
{
    private bool _loanOpen;
    private long _loanToken;
    private long _loanPosition;
    private long _loanWrapFrom;
    private int _loanCapacity;
    private LoanBufferWriter? _loanBufferWriter;
    private MappedRegion.RegionMemoryManager? _payloadMemory;

    /// <summary>Loans space for one frame of up to <paramref name="maxLength"/> bytes, waiting as long as it takes.</summary>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    public FrameLoan Loan(int maxLength, CancellationToken cancellationToken = default) =>
        Loan(maxLength, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Loans space for one frame of up to <paramref name="maxLength"/> bytes, waiting at most <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">No space became free in time.</exception>
    /// <exception cref="ReaderGoneException">The reader is gone.</exception>
    public FrameLoan Loan(int maxLength, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        WriteStatus status = TryLoan(maxLength, out FrameLoan loan, timeout, cancellationToken);
        ThrowForStatus(status, timeout);
        return loan;
    }

    /// <summary>Loans space for one frame of up to <paramref name="maxLength"/> bytes if it frees up within <paramref name="timeout"/>.</summary>
    /// <exception cref="InvalidOperationException">A loan is already open.</exception>
    /// <exception cref="FrameTooLargeException">The loan can never fit in this buffer.</exception>
    public WriteStatus TryLoan(int maxLength, out FrameLoan loan, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ThrowIfLoanOpen();
        long total = CheckFrameLength(maxLength, loan: true);
        WriteStatus status = Reserve(total, loan: true, timeout, cancellationToken, out long position, out long wrapFrom);
        if (status != WriteStatus.Success)
        {
            loan = default;
            return status;
        }
        _loanOpen = true;
        _loanToken++;
        _loanPosition = position;
        _loanWrapFrom = wrapFrom;
        _loanCapacity = maxLength;
        _loanBufferWriter?.Reset();
        loan = new FrameLoan(this, _loanToken, maxLength);
        return WriteStatus.Success;
    }

    private void ThrowIfLoanOpen()
    {
        if (_loanOpen)
        {
            throw new InvalidOperationException(
                $"A loan is open on buffer '{Name}': commit or abandon it before writing or loaning again (frames are written in order).");
        }
    }

    private void CheckLoan(long token)
    {
        if (!_loanOpen || token != _loanToken || _disposed)
        {
            throw new ObjectDisposedException(nameof(FrameLoan), "This loan was already committed or abandoned.");
        }
    }

    internal Span<byte> GetLoanSpan(long token)
    {
        CheckLoan(token);
        return _region.GetSpan(_payloadOffset + _loanPosition + FrameHeaderLayout.Size, _loanCapacity);
    }

    internal IBufferWriter<byte> GetLoanBufferWriter(long token)
    {
        CheckLoan(token);
        _loanBufferWriter ??= new LoanBufferWriter(this);
        _loanBufferWriter.Token = token;
        return _loanBufferWriter;
    }

    internal int GetLoanAdvanced(long token)
    {
        CheckLoan(token);
        return _loanBufferWriter is { } writer && writer.Token == token ? writer.Advanced : 0;
    }

    internal void CommitLoan(long token, int length)
    {
        CheckLoan(token);
        if (length <= 0 || length > _loanCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Commit between 1 and the {_loanCapacity} bytes loaned; to publish nothing, abandon the loan.");
        }
        long remainder = _payloadSize - (_loanPosition + FrameHeaderLayout.Size + length);
        if (remainder is > 0 and < FrameHeaderLayout.Size)
        {
            // Only a loan of the whole block can get here (any other loan keeps a header's room after it).
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Committing {length} bytes of a loan of the whole block would leave a tail of {remainder} bytes, too short for a " +
                $"header. Commit at most {_payloadSize - 2 * FrameHeaderLayout.Size} bytes or exactly {_loanCapacity}; the loan stays open.");
        }
        _loanOpen = false;
        Publish(_loanPosition, _loanWrapFrom, length);
    }

    internal void AbandonLoan(long token)
    {
        if (_loanOpen && token == _loanToken)
        {
            _loanOpen = false;
        }
    }

    private Memory<byte> GetLoanMemory(int offset, int length)
    {
        _payloadMemory ??= _region.CreateMemoryManager(_payloadOffset, (int)Math.Min(int.MaxValue, _payloadSize));
        return _payloadMemory.Memory.Slice((int)_loanPosition + FrameHeaderLayout.Size + offset, length);
    }

    /// <summary>The loan as an <see cref="IBufferWriter{T}"/>; one instance per writer, rebound to each loan.</summary>
    private sealed class LoanBufferWriter : IBufferWriter<byte>
    {
        private readonly RingWriter _writer;

        internal LoanBufferWriter(RingWriter writer) => _writer = writer;

        internal long Token { get; set; }

        internal int Advanced { get; private set; }

        internal void Reset() => Advanced = 0;

        public void Advance(int count)
        {
            _writer.CheckLoan(Token);
            if ((uint)count > (uint)(_writer._loanCapacity - Advanced))
            {
                throw new ArgumentOutOfRangeException(nameof(count), count, $"Only {_writer._loanCapacity - Advanced} loaned bytes remain.");
            }
            Advanced += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            int remaining = Remaining(sizeHint);
            if (_writer._payloadSize > int.MaxValue)
            {
                throw new NotSupportedException("GetMemory is not available on payload blocks of 2 GiB or more; use GetSpan.");
            }
            return _writer.GetLoanMemory(Advanced, remaining);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            int remaining = Remaining(sizeHint);
            return _writer.GetLoanSpan(Token).Slice(Advanced, remaining);
        }

        private int Remaining(int sizeHint)
        {
            _writer.CheckLoan(Token);
            int remaining = _writer._loanCapacity - Advanced;
            if (sizeHint > remaining || remaining == 0)
            {
                throw new InvalidOperationException(
                    $"The loan has {remaining} bytes left but {Math.Max(sizeHint, 1)} were asked for. A loan cannot grow: loan more bytes up front.");
            }
            return remaining;
        }
    }
}
