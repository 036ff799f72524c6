using System.Buffers;
using ZeroLane.Ipc;

namespace ZeroLane;

/// <summary>
/// Space loaned from shared memory (a ring, or any other <see cref="IFrameSink"/>) for one frame, written in place:
/// fill <see cref="Span"/> (or <see cref="BufferWriter"/>), then <see cref="Commit(int)"/> the bytes actually written
/// (which may be fewer than loaned), or dispose without committing to abandon it.
/// </summary>
/// <remarks>
/// A writer has at most one open loan. After commit or abandon, every member throws
/// <see cref="ObjectDisposedException"/> (except <see cref="Dispose"/> and <see cref="Abandon"/>, which do nothing).
/// </remarks>
public readonly struct FrameLoan : IDisposable
{
    private readonly LoanTracker? _tracker;
    private readonly long _token;

    internal FrameLoan(LoanTracker tracker, long token, int capacity)
    {
        _tracker = tracker;
        _token = token;
        Capacity = capacity;
    }

    /// <summary>Bytes loaned: the most that can be committed.</summary>
    public int Capacity { get; }

    /// <summary>The loaned bytes, in place in shared memory.</summary>
    public Span<byte> Span => Tracker.GetSpan(_token);

    /// <summary>
    /// The loaned bytes as an <see cref="IBufferWriter{T}"/> (one reused instance per writer, no allocation);
    /// <see cref="WrittenCount"/> says how many bytes were advanced through it, to commit.
    /// </summary>
    public IBufferWriter<byte> BufferWriter => Tracker.GetBufferWriter(_token);

    /// <summary>Bytes advanced through <see cref="BufferWriter"/> so far: <c>loan.Commit(loan.WrittenCount)</c> publishes them.</summary>
    public int WrittenCount => Tracker.GetWrittenCount(_token);

    /// <summary>Publishes the first <paramref name="length"/> bytes as one frame.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Length is 0 or more than <see cref="Capacity"/>.</exception>
    public void Commit(int length) => Tracker.Commit(_token, length);

    /// <summary>Gives the space back without publishing anything.</summary>
    public void Abandon() => _tracker?.Abandon(_token);

    /// <summary>Abandons the loan unless it was committed.</summary>
    public void Dispose() => _tracker?.Abandon(_token);

    private LoanTracker Tracker => _tracker ?? throw new InvalidOperationException("This is default(FrameLoan), not a loan from a writer.");
}
