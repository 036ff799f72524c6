using System.Buffers;
using System.Runtime.CompilerServices;

namespace ZeroLane.Messages.Codecs;

/// <summary>
/// A growable body buffer rented from <see cref="ArrayPool{T}.Shared"/> that codecs write a message body into
/// and hand to <see cref="MessageBuilder.WithBody(IMemoryOwner{byte}, int)"/>; the message returns it to the pool.
/// For codecs of your own (and the optional codec packages) as much as for the built-in ones.
/// </summary>
/// <remarks>
/// Design: a <see cref="MemoryManager{T}"/> rather than a bare array so that, as with received frames, memory
/// obtained from a disposed message throws instead of showing bytes the pool has handed to someone else.
/// <see cref="MemoryManager{T}.Memory"/> covers exactly the bytes written.
/// </remarks>
public sealed class MessageBodyWriter : MemoryManager<byte>, IBufferWriter<byte>
{
    private byte[]? _array;
    private int _written;

    /// <summary>Rents a buffer of at least <paramref name="initialCapacity"/> bytes; it grows as needed.</summary>
    public MessageBodyWriter(int initialCapacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
    }

    /// <summary>Bytes written (advanced) so far: the body's length.</summary>
    public int WrittenCount => _written;

    /// <summary>Exactly <paramref name="length"/> writable bytes after those written; call <see cref="Advance"/> after filling them.</summary>
    public Span<byte> GetWritableSpan(int length)
    {
        Grow(length);
        return Array().AsSpan(_written, length);
    }

    /// <summary>The bytes written so far.</summary>
    /// <exception cref="ObjectDisposedException">The buffer went back to the pool.</exception>
    public override Span<byte> GetSpan() => new(Array(), 0, _written);

    void IBufferWriter<byte>.Advance(int count)
    {
        byte[] array = Array();
        if ((uint)count > (uint)(array.Length - _written))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Advanced past the end of the span that was handed out.");
        }
        _written += count;
    }

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint)
    {
        Grow(sizeHint);
        return Array().AsMemory(_written);
    }

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint)
    {
        Grow(sizeHint);
        return Array().AsSpan(_written);
    }

    /// <summary>Counts <paramref name="count"/> more bytes as written, after filling them.</summary>
    public void Advance(int count) => ((IBufferWriter<byte>)this).Advance(count);

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        byte[] array = Array();
        if ((uint)elementIndex > (uint)_written)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        }
        // Pins the pooled array itself (a GC handle, released with the returned handle).
        return array.AsMemory(elementIndex).Pin();
    }

    /// <inheritdoc/>
    public override void Unpin()
    {
    }

    /// <summary>Returns the buffer to the pool; memory obtained from it throws from now on.</summary>
    protected override void Dispose(bool disposing)
    {
        byte[]? array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte[] Array() => _array ?? ThrowDisposed();

    private void Grow(int sizeHint)
    {
        byte[] array = Array();
        int needed = Math.Max(sizeHint, 1);
        if (array.Length - _written >= needed)
        {
            return;
        }
        long newSize = Math.Max((long)array.Length * 2, (long)_written + needed);
        if (newSize > System.Array.MaxLength)
        {
            newSize = (long)_written + needed;
            if (newSize > System.Array.MaxLength)
            {
                throw new InvalidOperationException($"A message body cannot exceed {System.Array.MaxLength} bytes; send large data as parts.");
            }
        }
        byte[] larger = ArrayPool<byte>.Shared.Rent((int)newSize);
        array.AsSpan(0, _written).CopyTo(larger);
        _array = larger;
        ArrayPool<byte>.Shared.Return(array);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte[] ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(Message), "The message was disposed; its body went back to the pool.");
}
