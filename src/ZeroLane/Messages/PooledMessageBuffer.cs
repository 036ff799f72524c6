using System.Buffers;

namespace ZeroLane.Messages;

/// <summary>
/// A pooled receive buffer. Memory obtained from it throws <see cref="ObjectDisposedException"/> once it
/// is disposed, so a received message's segments cannot be read after the message is disposed.
/// </summary>
internal sealed class PooledMessageBuffer : MemoryManager<byte>
{
    private byte[]? _array;
    private readonly int _length;

    internal PooledMessageBuffer(int length)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        _length = length;
    }

    public override Span<byte> GetSpan() =>
        new(_array ?? throw new ObjectDisposedException(nameof(Message), "The message was disposed; its bytes went back to the pool."), 0, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        byte[] array = _array ?? throw new ObjectDisposedException(nameof(Message), "The message was disposed; its bytes went back to the pool.");
        if ((uint)elementIndex > (uint)_length)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        }
        // Pins the pooled array itself (a GC handle, released with the returned handle).
        return array.AsMemory(elementIndex).Pin();
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        byte[]? array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
