using System.Buffers;

namespace ZeroLane.Buffers;

/// <summary>
/// Space loaned from a ring for one frame, written in place: fill <see cref="Span"/> (or
/// <see cref="BufferWriter"/>), then <see cref="Commit(int)"/> the bytes actually written (which may be
/// fewer than loaned), or dispose without committing to abandon it.
/// </summary>
/// <remarks>
/// A writer has at most one open loan. After commit or abandon, every member throws
/// <see cref="ObjectDisposedException"/> (except <see cref="Dispose"/>, which does nothing).
/// </remarks>
public readonly struct FrameLoan : IDisposable
{
    private readonly RingWriter? _writer;
    private readonly long _token;

    internal FrameLoan(RingWriter writer, long token, int capacity)
    {
        _writer = writer;
        _token = token;
        Capacity = capacity;
    }

    /// <summary>Bytes loaned: the most that can be committed.</summary>
    public int Capacity { get; }

    /// <summary>The loaned bytes, in place in shared memory.</summary>
    public Span<byte> Span => Writer.GetLoanSpan(_token);

    /// <summary>
    /// The loaned bytes as an <see cref="IBufferWriter{T}"/> (one reused instance per writer, no allocation).
    /// <see cref="Commit()"/> then commits what was advanced.
    /// </summary>
    public IBufferWriter<byte> BufferWriter => Writer.GetLoanBufferWriter(_token);

    /// <summary>Publishes the first <paramref name="length"/> bytes as one frame.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Length is 0 or more than <see cref="Capacity"/>.</exception>
    public void Commit(int length) => Writer.CommitLoan(_token, length);

    /// <summary>Publishes the bytes advanced through <see cref="BufferWriter"/> as one frame.</summary>
    public void Commit() => Writer.CommitLoan(_token, Writer.GetLoanAdvanced(_token));

    /// <summary>Gives the space back without publishing anything.</summary>
    public void Abandon() => _writer?.AbandonLoan(_token);

    /// <summary>Abandons the loan unless it was committed.</summary>
    public void Dispose() => _writer?.AbandonLoan(_token);

    private RingWriter Writer => _writer ?? throw new InvalidOperationException("This is default(FrameLoan), not a loan from a writer.");
}
