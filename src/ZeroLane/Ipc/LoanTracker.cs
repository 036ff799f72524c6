using System.Buffers;
using System.Runtime.CompilerServices;

namespace ZeroLane.Ipc;

/// <summary>What a <see cref="LoanTracker"/> asks of the writer whose loans it tracks.</summary>
internal interface ILoanPublisher
{
    /// <summary>
    /// Publishes the first <paramref name="length"/> bytes (already checked against the loan's capacity) of the loan at
    /// <paramref name="offset"/>, or throws before publishing anything if they cannot be committed; the loan stays open then.
    /// </summary>
    void PublishLoan(long offset, int length);
}

/// <summary>
/// The one open loan of a writer into a block of shared memory: which loan is current (a token, so a stale
/// <see cref="FrameLoan"/> copy cannot touch a later loan), where it lies, and its <see cref="IBufferWriter{T}"/> view.
/// </summary>
/// <remarks>
/// Design: a writer has at most one open loan, so one tracker per writer, reused for every loan, and one reused buffer
/// writer: opening, filling and committing a loan allocates nothing. Memory (as opposed to spans) over a loan comes from
/// one memory manager over the whole block, made on first use.
/// </remarks>
internal sealed class LoanTracker
{
    private readonly MappedRegion _region;
    private readonly ILoanPublisher _publisher;
    private readonly long _blockOffset;
    private readonly long _blockLength;
    private MappedRegion.RegionMemoryManager? _blockMemory;
    private LoanBufferWriter? _bufferWriter;
    private bool _open;
    private bool _closed;
    private long _token;
    private long _offset;
    private int _capacity;

    /// <summary>Tracks loans in [<paramref name="blockOffset"/>, +<paramref name="blockLength"/>) of <paramref name="region"/>.</summary>
    internal LoanTracker(MappedRegion region, long blockOffset, long blockLength, ILoanPublisher publisher)
    {
        _region = region;
        _blockOffset = blockOffset;
        _blockLength = blockLength;
        _publisher = publisher;
    }

    /// <summary>Whether a loan is open.</summary>
    internal bool IsOpen => _open;

    /// <summary>Opens a loan of <paramref name="capacity"/> bytes at <paramref name="offset"/> in the region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal FrameLoan Open(long offset, int capacity)
    {
        _open = true;
        _token++;
        _offset = offset;
        _capacity = capacity;
        _bufferWriter?.Reset();
        return new FrameLoan(this, _token, capacity);
    }

    /// <summary>Ends every loan for good (the writer is disposed): later calls on any loan throw.</summary>
    internal void Close()
    {
        _open = false;
        _closed = true;
        _blockMemory?.Invalidate();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<byte> GetSpan(long token)
    {
        Check(token);
        return _region.GetSpan(_offset, _capacity);
    }

    internal IBufferWriter<byte> GetBufferWriter(long token)
    {
        Check(token);
        _bufferWriter ??= new LoanBufferWriter(this);
        if (_bufferWriter.Token != token)
        {
            _bufferWriter.Token = token;
            _bufferWriter.Reset();
        }
        return _bufferWriter;
    }

    internal int GetWrittenCount(long token)
    {
        Check(token);
        return _bufferWriter is { } writer && writer.Token == token ? writer.Advanced : 0;
    }

    internal void Commit(long token, int length)
    {
        Check(token);
        if (length <= 0 || length > _capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Commit between 1 and the {_capacity} bytes loaned; to publish nothing, abandon the loan.");
        }
        _publisher.PublishLoan(_offset, length);
        _open = false;
    }

    internal void Abandon(long token)
    {
        if (_open && token == _token)
        {
            _open = false;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Check(long token)
    {
        if (!_open || token != _token || _closed)
        {
            ThrowClosed();
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowClosed() =>
        throw new ObjectDisposedException(nameof(FrameLoan), "This loan was already committed or abandoned.");

    private Memory<byte> GetMemory(int start, int length)
    {
        if (_blockLength > int.MaxValue)
        {
            throw new NotSupportedException("GetMemory is not available on blocks of 2 GiB or more; use GetSpan.");
        }
        _blockMemory ??= _region.CreateMemoryManager(_blockOffset, (int)_blockLength);
        return _blockMemory.Memory.Slice((int)(_offset - _blockOffset) + start, length);
    }

    /// <summary>The loan as an <see cref="IBufferWriter{T}"/>; one instance per tracker, rebound to each loan.</summary>
    private sealed class LoanBufferWriter(LoanTracker tracker) : IBufferWriter<byte>
    {
        internal long Token { get; set; }

        internal int Advanced { get; private set; }

        internal void Reset() => Advanced = 0;

        public void Advance(int count)
        {
            tracker.Check(Token);
            if ((uint)count > (uint)(tracker._capacity - Advanced))
            {
                throw new ArgumentOutOfRangeException(nameof(count), count, $"Only {tracker._capacity - Advanced} loaned bytes remain.");
            }
            Advanced += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => tracker.GetMemory(Advanced, Remaining(sizeHint));

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            int remaining = Remaining(sizeHint);
            return tracker.GetSpan(Token).Slice(Advanced, remaining);
        }

        private int Remaining(int sizeHint)
        {
            tracker.Check(Token);
            int remaining = tracker._capacity - Advanced;
            if (sizeHint > remaining || remaining == 0)
            {
                throw new InvalidOperationException(
                    $"The loan has {remaining} bytes left but {Math.Max(sizeHint, 1)} were asked for. A loan cannot grow: loan more bytes up front.");
            }
            return remaining;
        }
    }
}
