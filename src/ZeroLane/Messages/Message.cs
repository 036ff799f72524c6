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
/// </remarks>
public sealed class Message : IDisposable
{
    private readonly ReadOnlyMemory<byte> _body;
    private readonly ReadOnlyMemory<byte>[] _parts;
    private readonly IDisposable[] _owners;
    private ReadOnlySequence<byte>? _sequence;
    private int _disposed;

    internal Message(ReadOnlyMemory<byte> body, ReadOnlyMemory<byte>[] parts, IDisposable[] owners)
    {
        _body = body;
        _parts = parts;
        _owners = owners;
        long length = body.Length;
        foreach (ReadOnlyMemory<byte> part in parts)
        {
            length += part.Length;
        }
        Length = length;
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
    public int PartCount => _parts.Length;

    /// <summary>Part <paramref name="index"/>, in place.</summary>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public ReadOnlyMemory<byte> GetPart(int index)
    {
        ThrowIfDisposed();
        return _parts[index];
    }

    /// <summary>The parts, in order, in place.</summary>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public ReadOnlySpan<ReadOnlyMemory<byte>> Parts
    {
        get
        {
            ThrowIfDisposed();
            return _parts;
        }
    }

    /// <summary>Bytes of the body and all parts together.</summary>
    public long Length { get; }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The body followed by every part as one <see cref="ReadOnlySequence{T}"/> over the same memory (no copy).</summary>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    public ReadOnlySequence<byte> ToSequence()
    {
        ThrowIfDisposed();
        return _sequence ??= SequenceOf(_body, _parts);
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
        foreach (ReadOnlyMemory<byte> part in _parts)
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
        foreach (IDisposable owner in _owners)
        {
            if (owner is ISegmentOwnerCheck check)
            {
                check.ThrowIfContentLost();
            }
        }
    }

    private static ReadOnlySequence<byte> SequenceOf(ReadOnlyMemory<byte> body, ReadOnlyMemory<byte>[] parts)
    {
        SequenceSegment? first = null, last = null;
        void Append(ReadOnlyMemory<byte> memory)
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
        Append(body);
        foreach (ReadOnlyMemory<byte> part in parts)
        {
            Append(part);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
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
        foreach (IDisposable owner in _owners)
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
