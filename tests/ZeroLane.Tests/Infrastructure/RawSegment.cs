using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// The shared memory segment <c>/dev/shm/NAME</c> mapped by the test as a plain file, read and written
/// little-endian by hand: to inspect what the library wrote, or to act as a peer implementation.
/// </summary>
internal sealed unsafe class RawSegment : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private bool _disposed;

    private RawSegment(FileStream stream, long length)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The atomic helpers assume a little-endian machine, as the protocol does.");
        }
        _file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
        Length = length;
    }

    internal static string PathOf(string name) => "/dev/shm/" + name;

    /// <summary>Maps the existing segment of buffer <paramref name="name"/> (for example one a RingReader created).</summary>
    internal static RawSegment Open(string name)
    {
        var stream = new FileStream(PathOf(name), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        return new RawSegment(stream, stream.Length);
    }

    /// <summary>Creates <c>/dev/shm/NAME</c> as a new zero-filled file of <paramref name="length"/> bytes and maps it.</summary>
    internal static RawSegment Create(string name, long length)
    {
        var stream = new FileStream(PathOf(name), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(PathOf(name), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        stream.SetLength(length);
        return new RawSegment(stream, length);
    }

    internal long Length { get; }

    internal Span<byte> Bytes(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) lies outside the {Length}-byte segment.");
        }
        return new Span<byte>(_base + offset, length);
    }

    internal byte U8(long offset) => Bytes(offset, 1)[0];

    internal void SetU8(long offset, byte value) => Bytes(offset, 1)[0] = value;

    internal uint U32(long offset) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(offset, 4));

    internal void SetU32(long offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes(offset, 4), value);

    internal ulong U64(long offset)
    {
        Interlocked.MemoryBarrier();
        return BinaryPrimitives.ReadUInt64LittleEndian(Bytes(offset, 8));
    }

    /// <summary>Stores a u64 little-endian, with a full fence after it so it is published before anything that follows.</summary>
    internal void SetU64(long offset, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Bytes(offset, 8), value);
        Interlocked.MemoryBarrier();
    }

    /// <summary>Atomic add (negative subtracts), as the spec requires for payload_free_bytes. Returns the new value.</summary>
    internal ulong AddU64(long offset, long delta)
    {
        Bytes(offset, 8);
        return Interlocked.Add(ref *(ulong*)(_base + offset), unchecked((ulong)delta));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
