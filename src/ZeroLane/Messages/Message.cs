using System.Buffers;
using System.Runtime.CompilerServices;

namespace ZeroLane.Messages;

/// <summary>
/// A message: a compact body plus an ordered list of binary parts, each a separate memory segment that is
/// never copied into the others. Large data (pixels, tensors, sample buffers) travels as parts.
/// </summary>
/// <remarks>
/// Ownership: a message built with <see cref="MessageBuilder"/> holds the owners of its segments
/// (<see cref="IMemoryOwner{T}"/>, a ring <c>Frame</c>, native memory) and releases them when it is disposed.
/// A sender keeps the message alive until the send has completed (the send methods return only then), after
/// which the caller may reuse or dispose its segments. A received message's segments are slices of the
/// buffer it arrived in; they stay valid until the message is disposed, and any access after that (through
/// the message or through memory obtained from it) throws <see cref="ObjectDisposedException"/>.
/// Design: a <see cref="MessageBuilder"/> that is <see cref="MessageBuilder.Reset"/> and built again hands out the message it
/// built before, once that one is disposed, refilled in its own arrays (grown only when a message has more parts than any
/// before it), so a loop that builds and sends a message per iteration allocates nothing in steady state. The arrays may
/// therefore be longer than the message: <see cref="_partCount"/> and <see cref="_ownerCount"/> say how much is in use.
/// </remarks>
public sealed class Message : IDisposable
{
    private ReadOnlyMemory<byte> _body;
    private ReadOnlyMemory<byte>[] _parts;
    private int _partCount;
    private IDisposable[] _owners;
    private int _ownerCount;
    private ReadOnlySequence<byte>? _sequence;
    private int _disposed;

    internal Message(ReadOnlyMemory<byte> body, ReadOnlyMemory<byte>[] parts, IDisposable[] owners)
    {
        _body = body;
        _parts = parts;
        _partCount = parts.Length;
        _owners = owners;
        _ownerCount = owners.Length;
        Length = TotalLength(body, parts);
    }

    /// <summary>
    /// Makes this disposed message a new one of <paramref name="body"/>, <paramref name="parts"/> and
    /// <paramref name="owners"/>, reusing its arrays: only its builder calls this, once the message was disposed.
    /// </summary>
    internal void Refill(ReadOnlyMemory<byte> body, ReadOnlySpan<ReadOnlyMemory<byte>> parts, ReadOnlySpan<IDisposable> owners)
    {
        if (_parts.Length < parts.Length)
        {
            _parts = new ReadOnlyMemory<byte>[parts.Length];
        }
        if (_owners.Length < owners.Length)
        {
            _owners = new IDisposable[owners.Length];
        }
        parts.CopyTo(_parts);
        owners.CopyTo(_owners);
        _body = body;
        _partCount = parts.Length;
        _ownerCount = owners.Length;
        _sequence = null;
        Length = TotalLength(body, parts);
        // Alive again only once everything above is in place (a stale reference that checks sees it disposed until then).
        Volatile.Write(ref _disposed, 0);
    }

    /// <summary>
    /// Drops the body and makes part 0 the body, in place (no copy, no allocation): a message received as an envelope
    /// body plus the carried message's body and parts becomes the carried message. Only the receiver that owns the
    /// message, before handing it out, calls this.
    /// </summary>
    internal void PromoteFirstPartToBody()
    {
        ThrowIfDisposed();
        if (_partCount == 0)
        {
            throw new InvalidOperationException("A message without parts has no part to make its body.");
        }
        Length -= _body.Length;
        _body = _parts[0];
        Array.Copy(_parts, 1, _parts, 0, _partCount - 1);
        _parts[_partCount - 1] = default;
        _partCount--;
        _sequence = null;
    }

    private static long TotalLength(ReadOnlyMemory<byte> body, ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        long length = body.Length;
        foreach (ReadOnlyMemory<byte> part in parts)
        {
            length += part.Length;
        }
        return length;
    }

    /// <summary>A message of a body and parts whose memory the caller owns (nothing is released on dispose).</summary>
    public static Message Create(ReadOnlyMemory<byte> body, params ReadOnlyMemory<byte>[] parts) =>
        new(body, (ReadOnlyMemory<byte>[])parts.Clone(), []);

    /// <summary>Starts a message whose segments may come with owners that the message releases.</summary>
    public static MessageBuilder CreateBuilder() => new();

    /// <summary>The compact body (ids, timestamps, shapes, a serialized header).</summary>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public ReadOnlyMemory<byte> Body
    {
        get
        {
            ThrowIfDisposed();
            return _body;
        }
    }

    /// <summary>Number of parts.</summary>
    public int PartCount => _partCount;

    /// <summary>Part <paramref name="index"/>, in place.</summary>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="PartCount"/>.</exception>
    public ReadOnlyMemory<byte> GetPart(int index)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_partCount, nameof(index));
        return _parts[index];
    }

    /// <summary>The parts, in order, in place.</summary>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public ReadOnlySpan<ReadOnlyMemory<byte>> Parts
    {
        get
        {
            ThrowIfDisposed();
            return _parts.AsSpan(0, _partCount);
        }
    }

    /// <summary>Bytes of the body and all parts together.</summary>
    public long Length { get; private set; }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The body followed by every part as one <see cref="ReadOnlySequence{T}"/> over the same memory (no copy).</summary>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public ReadOnlySequence<byte> ToSequence()
    {
        ThrowIfDisposed();
        return _sequence ??= SequenceOf(_body, _parts.AsSpan(0, _partCount));
    }

    /// <summary>Every segment (the body first, then the parts) in order, skipping empty ones.</summary>
    internal int CopySegmentsTo(Span<ReadOnlyMemory<byte>> destination)
    {
        ThrowIfDisposed();
        int count = 0;
        if (!_body.IsEmpty)
        {
            destination[count++] = _body;
        }
        foreach (ReadOnlyMemory<byte> part in _parts.AsSpan(0, _partCount))
        {
            if (!part.IsEmpty)
            {
                destination[count++] = part;
            }
        }
        return count;
    }

    /// <summary>
    /// Throws if an owner reports that its segment's content was lost (see <see cref="ISegmentOwnerCheck"/>). Senders call
    /// it after copying the segments and before publishing them.
    /// </summary>
    internal void ThrowIfContentLost()
    {
        foreach (IDisposable owner in _owners.AsSpan(0, _ownerCount))
        {
            if (owner is ISegmentOwnerCheck check)
            {
                check.ThrowIfContentLost();
            }
        }
    }

    private static ReadOnlySequence<byte> SequenceOf(ReadOnlyMemory<byte> body, ReadOnlySpan<ReadOnlyMemory<byte>> parts)
    {
        SequenceSegment? first = null, last = null;
        Append(body, ref first, ref last);
        foreach (ReadOnlyMemory<byte> part in parts)
        {
            Append(part, ref first, ref last);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);

        static void Append(ReadOnlyMemory<byte> memory, ref SequenceSegment? first, ref SequenceSegment? last)
        {
            if (memory.IsEmpty)
            {
                return;
            }
            if (last is null)
            {
                first = last = new SequenceSegment(memory, 0);
            }
            else
            {
                last = last.Append(memory);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ThrowDisposed();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(Message), "The message was disposed; its segments may already have been released or reused.");

    /// <summary>Releases the owners of the segments. Disposing twice does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        List<Exception>? failures = null;
        foreach (IDisposable owner in _owners.AsSpan(0, _ownerCount))
        {
            try
            {
                owner.Dispose();
            }
            catch (Exception exception)
            {
                (failures ??= new()).Add(exception);
            }
        }
        // The owners are released: do not keep them (frames, pooled buffers) reachable from a message kept for reuse.
        Array.Clear(_owners, 0, _ownerCount);
        if (failures is not null)
        {
            throw new AggregateException("Releasing a message segment's owner failed.", failures);
        }
    }

    private sealed class SequenceSegment : ReadOnlySequenceSegment<byte>
    {
        internal SequenceSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        internal SequenceSegment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new SequenceSegment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
