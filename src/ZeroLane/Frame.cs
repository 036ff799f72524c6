using ZeroLane.Ipc;

namespace ZeroLane;

/// <summary>
/// A frame read in place from shared memory (a ring, or any other <see cref="IFrameSource"/>): its bytes are the memory
/// the writer wrote, never copied. Dispose it to give its space back to the writer.
/// </summary>
/// <remarks>
/// Several frames may be held at once and released in any order; space returns to the writer in ring order. After
/// release, <see cref="Span"/> and <see cref="Memory"/> throw <see cref="ObjectDisposedException"/>; releasing twice
/// does nothing. A span obtained before release must not be used after it: the bytes may by then hold a later frame.
/// <see cref="Frame"/> is a small struct; copies refer to the same frame.
/// </remarks>
public readonly struct Frame : IDisposable
{
    private readonly FrameOwner? _owner;
    private readonly long _ticket;
    private readonly int _offset;

    internal Frame(FrameOwner owner, long ticket, ulong sequence, int length)
    {
        _owner = owner;
        _ticket = ticket;
        Sequence = sequence;
        Length = length;
    }

    private Frame(FrameOwner? owner, long ticket, ulong sequence, int length, int offset)
    {
        _owner = owner;
        _ticket = ticket;
        Sequence = sequence;
        Length = length;
        _offset = offset;
    }

    /// <summary>The writer's sequence number: 1 for its first frame, then one more per frame.</summary>
    public ulong Sequence { get; }

    /// <summary>Number of payload bytes.</summary>
    public int Length { get; }

    /// <summary>False for <c>default(Frame)</c>.</summary>
    public bool IsValid => _owner is not null;

    /// <summary>True once the frame has been released (or for <c>default(Frame)</c>).</summary>
    public bool IsReleased => _owner is null || _owner.IsReleased(_ticket);

    /// <summary>The payload bytes, in place in shared memory.</summary>
    /// <exception cref="ObjectDisposedException">The frame was released.</exception>
    public ReadOnlySpan<byte> Span => _owner is null ? ThrowInvalid() : _owner.GetSpan(_ticket).Slice(_offset);

    /// <summary>
    /// The payload bytes as memory, in place in shared memory, for APIs that need <see cref="ReadOnlyMemory{T}"/>.
    /// The first call per frame allocates one small object; access after release throws
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public ReadOnlyMemory<byte> Memory => _owner is null ? ThrowInvalid().ToArray() : _owner.GetMemory(_ticket).Slice(_offset);

    /// <summary>Releases the frame, returning its space to the writer in ring order. Releasing twice is harmless.</summary>
    public void Dispose() => _owner?.Release(_ticket);

    /// <summary>
    /// The same frame seen from <paramref name="offset"/> on, under <paramref name="sequence"/>: a protocol's header in front
    /// of the payload is skipped without a copy (a duplex response is shown under its request's sequence number). Disposing
    /// either view releases the frame.
    /// </summary>
    internal Frame Skip(int offset, ulong sequence) => new(_owner, _ticket, sequence, Length - offset, _offset + offset);

    private static ReadOnlySpan<byte> ThrowInvalid() =>
        throw new InvalidOperationException("This is default(Frame), not a frame that was read.");
}
