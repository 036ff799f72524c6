using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using ZeroLane.Posix;

namespace ZeroLane.Ipc;

/// <summary>
/// The one type that reads and writes mapped shared memory for the shared-memory transports (rings, topics, duplex
/// channels). Method names state the memory ordering: plain accesses, <c>Acquire</c> loads, <c>Release</c> stores, and
/// atomic read-modify-writes (which are full fences).
/// </summary>
/// <remarks>
/// Design: callers compute offsets from validated header values; spans are bounds-checked here so that a corrupt
/// value can never produce a read outside the mapping. Fixed-size accessors only assert, since their offsets are
/// constants of a layout. The region keeps its <see cref="MemoryMapping"/> referenced until disposed.
/// </remarks>
internal sealed unsafe class MappedRegion : IDisposable
{
    private readonly MemoryMapping _mapping;
    private readonly byte* _base;
    private readonly long _length;
    private readonly int* _lostPages;
    private int _disposed;

    internal MappedRegion(MemoryMapping mapping)
    {
        bool added = false;
        mapping.DangerousAddRef(ref added);
        _mapping = mapping;
        _base = (byte*)mapping.DangerousGetHandle();
        _length = mapping.Length;
        _lostPages = (int*)mapping.FaultFlag;
    }

    internal long Length => _length;

    /// <summary>
    /// Whether the fault guard replaced pages of the mapping with zeros (its object was truncated under us, or /dev/shm had
    /// no room for a page of a sparse object): zeros read since then mean that, not "no peer" or "no data". Users check it
    /// before publishing and on slow paths.
    /// </summary>
    internal bool HasLostPages
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Volatile.Read(ref *_lostPages) != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint ReadUInt32Acquire(long offset)
    {
        Debug.Assert((ulong)offset + 4 <= (ulong)_length);
        return Volatile.Read(ref *(uint*)(_base + offset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteUInt32Release(long offset, uint value)
    {
        Debug.Assert((ulong)offset + 4 <= (ulong)_length);
        Volatile.Write(ref *(uint*)(_base + offset), value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte ReadByte(long offset)
    {
        Debug.Assert((ulong)offset < (ulong)_length);
        return _base[offset];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteByte(long offset, byte value)
    {
        Debug.Assert((ulong)offset < (ulong)_length);
        _base[offset] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadUInt64(long offset)
    {
        Debug.Assert((ulong)offset + 8 <= (ulong)_length);
        return *(ulong*)(_base + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadUInt64Acquire(long offset)
    {
        Debug.Assert((ulong)offset + 8 <= (ulong)_length);
        return Volatile.Read(ref *(ulong*)(_base + offset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteUInt64(long offset, ulong value)
    {
        Debug.Assert((ulong)offset + 8 <= (ulong)_length);
        *(ulong*)(_base + offset) = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteUInt64Release(long offset, ulong value)
    {
        Debug.Assert((ulong)offset + 8 <= (ulong)_length);
        Volatile.Write(ref *(ulong*)(_base + offset), value);
    }

    /// <summary>Atomically adds (a negative delta subtracts) and returns the new value; a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong AddAndGetUInt64(long offset, long delta)
    {
        Debug.Assert((ulong)offset + 8 <= (ulong)_length);
        return Interlocked.Add(ref *(ulong*)(_base + offset), unchecked((ulong)delta));
    }

    /// <summary>Atomically replaces the value if it equals <paramref name="expected"/>; a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool CompareAndSetUInt64(long offset, ulong expected, ulong value)
    {
        Debug.Assert((ulong)offset + 8 <= (ulong)_length);
        return Interlocked.CompareExchange(ref *(ulong*)(_base + offset), value, expected) == expected;
    }

    /// <summary>Atomically stores and returns the previous value; a full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ExchangeUInt64(long offset, ulong value)
    {
        Debug.Assert((ulong)offset + 8 <= (ulong)_length);
        return Interlocked.Exchange(ref *(ulong*)(_base + offset), value);
    }

    /// <summary>A span over [offset, offset + length); throws rather than reach outside the mapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<byte> GetSpan(long offset, int length)
    {
        if ((ulong)offset + (ulong)(uint)length > (ulong)_length)
        {
            ThrowOutOfRange(offset, length);
        }
        return new Span<byte>(_base + offset, length);
    }

    /// <summary>A <see cref="MemoryManager{T}"/> over [offset, offset + length), for APIs that need <see cref="Memory{T}"/>.</summary>
    internal RegionMemoryManager CreateMemoryManager(long offset, int length)
    {
        GetSpan(offset, length);
        return new RegionMemoryManager(this, offset, length);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowOutOfRange(long offset, int length) =>
        throw new BufferCorruptedException(
            $"An access of {length} bytes at offset {offset} would fall outside the {_length}-byte shared memory segment: " +
            "a size or offset read from shared memory is corrupt.");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _mapping.DangerousRelease();
        }
    }

    /// <summary>
    /// Memory over part of the region. <see cref="Invalidate"/> makes every later access throw
    /// <see cref="ObjectDisposedException"/>, so a <see cref="Memory{T}"/> kept past its frame or loan fails loudly.
    /// </summary>
    internal sealed class RegionMemoryManager : MemoryManager<byte>
    {
        private readonly MappedRegion _region;
        private readonly long _offset;
        private readonly int _length;
        private volatile bool _invalid;

        internal RegionMemoryManager(MappedRegion region, long offset, int length)
        {
            _region = region;
            _offset = offset;
            _length = length;
        }

        internal void Invalidate() => _invalid = true;

        public override Span<byte> GetSpan()
        {
            if (_invalid)
            {
                ThrowReleased();
            }
            return new Span<byte>(_region._base + _offset, _length);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            if (_invalid)
            {
                ThrowReleased();
            }
            if ((uint)elementIndex > (uint)_length)
            {
                throw new ArgumentOutOfRangeException(nameof(elementIndex));
            }
            // Mapped memory never moves; no GC pinning needed.
            return new MemoryHandle(_region._base + _offset + elementIndex);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing) => _invalid = true;

        private static void ThrowReleased() =>
            throw new ObjectDisposedException(nameof(Frame),
                "The frame or loan this memory belongs to has been released; its bytes may already hold later data.");
    }
}
