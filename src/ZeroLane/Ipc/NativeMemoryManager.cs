using System.Buffers;

namespace ZeroLane.Ipc;

/// <summary>
/// <see cref="Memory{T}"/> over native memory the caller owns (unmanaged allocations, mapped files, shared
/// memory). It never frees the memory; after <see cref="IDisposable.Dispose"/> every access throws. A mapped-memory
/// type: it hands out spans over a raw address.
/// </summary>
internal sealed unsafe class NativeMemoryManager : MemoryManager<byte>
{
    private readonly byte* _pointer;
    private readonly int _length;
    private volatile bool _disposed;

    internal NativeMemoryManager(nint address, int length)
    {
        _pointer = (byte*)address;
        _length = length;
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Span<byte>(_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)elementIndex > (uint)_length)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        }
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => _disposed = true;
}
