namespace ZeroLane.Buffers;

/// <summary>
/// A frame read in place from a ring: its bytes are the shared memory the writer wrote, never copied.
/// Dispose it (or call <see cref="RingReader.Release(Frame)"/>) to give its space back to the writer.
/// </summary>
/// <remarks>
/// Several frames may be held at once and released in any order; space returns to the writer in ring
/// order. After release, <see cref="Span"/> and <see cref="Memory"/> throw <see cref="ObjectDisposedException"/>;
/// releasing twice does nothing. A span obtained before release must not be used after it: the bytes may
/// by then hold a later frame. <see cref="Frame"/> is a small struct; copies refer to the same frame.
/// </remarks>
public readonly struct Frame : IDisposable
{
    private readonly RingReader? _reader;
    private readonly long _ticket;

    internal Frame(RingReader reader, long ticket, ulong sequence, int length)
    {
        _reader = reader;
        _ticket = ticket;
        Sequence = sequence;
        Length = length;
    }

    /// <summary>The writer's sequence number: 1 for its first frame, then one more per frame.</summary>
    public ulong Sequence { get; }

    /// <summary>Number of payload bytes.</summary>
    public int Length { get; }

    /// <summary>False for <c>default(Frame)</c>.</summary>
    public bool IsValid => _reader is not null;

    /// <summary>True once the frame has been released (or for <c>default(Frame)</c>).</summary>
    public bool IsReleased => _reader is null || _reader.IsReleased(_ticket);

    /// <summary>The payload bytes, in place in shared memory.</summary>
    /// <exception cref="ObjectDisposedException">The frame was released.</exception>
    public ReadOnlySpan<byte> Span => _reader is null ? ThrowInvalid() : _reader.GetFrameSpan(_ticket);

    /// <summary>
    /// The payload bytes as memory, in place in shared memory, for APIs that need <see cref="ReadOnlyMemory{T}"/>.
    /// The first call per frame allocates one small object; access after release throws
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public ReadOnlyMemory<byte> Memory => _reader is null ? ThrowInvalid().ToArray() : _reader.GetFrameMemory(_ticket);

    /// <summary>Releases the frame, returning its space to the writer in ring order. Releasing twice is harmless.</summary>
    public void Dispose() => _reader?.ReleaseTicket(_ticket);

    private static ReadOnlySpan<byte> ThrowInvalid() =>
        throw new InvalidOperationException("This is default(Frame), not a frame read from a buffer.");
}
