using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using ZeroLane.Posix;

namespace ZeroLane.Arrays;

/// <summary>
/// An N-dimensional array of <typeparamref name="T"/> stored in a .npy file and accessed through a memory mapping.
/// </summary>
/// <remarks>
/// Design: the whole file is mapped once at open (O(1) in the data size; pages are read when touched) and the
/// header is parsed from the mapping, bounded by the file size, so nothing outside the file is ever read. All
/// sizes and offsets are 64-bit. Element access by coordinates and <see cref="CopyTo"/> use unaligned reads and
/// writes and work for any data offset; spans and <see cref="At"/> hand out references into the mapping and
/// therefore need the data to be aligned for <typeparamref name="T"/>, which it is in every file ZeroLane
/// writes (data offset a multiple of 64) and in every file recent NumPy writes. This is the one type of
/// the Arrays namespace that touches mapped memory. A span or memory obtained from the array is valid only until
/// the array is disposed, and disposing while another thread still accesses the array is not supported.
/// If another process truncates the file while it is mapped, spans, chunks, copies, message parts and Flush throw
/// <see cref="MappedArrayFormatException"/> (the size is checked each time). Element access cannot afford a size
/// check, so the mapping is registered with the fault guard (see <see cref="MappedArray.IsFaultGuardActive"/>): a
/// page the file no longer has reads as zeros instead of faulting the process, and the access that touched it (and
/// every later call on the array) throws <see cref="MappedArrayFormatException"/>. Data read through a span or
/// reference obtained before the truncation also reads as zeros, and writes through it are dropped; the next call
/// on the array throws. The same guard turns a full filesystem under a sparse array (a write to a page the
/// filesystem has no room for) into an <see cref="IOException"/>.
/// </remarks>
/// <typeparam name="T">bool, sbyte, byte, short, ushort, int, uint, long, ulong, Half, float, double, <see cref="Complex64"/> or <see cref="System.Numerics.Complex"/>.</typeparam>
public sealed unsafe class MappedArray<T> : IDisposable where T : unmanaged
{
    private readonly MemoryMapping _mapping;
    private readonly SafeFileHandle _file;
    private readonly byte* _data;
    private readonly int* _faulted;
    private readonly long _length;
    private readonly long[] _shape;
    private readonly long[] _strides;

    private MappedArray(string path, MappedAccess access, MemoryMapping mapping, NpyHeader header, SafeFileHandle file)
    {
        _file = file;
        Path = path;
        Access = access;
        Header = header;
        _mapping = mapping;
        _faulted = (int*)mapping.FaultFlag;
        _data = (byte*)mapping.DangerousGetHandle() + header.DataOffset;
        _shape = header.Shape;
        _length = header.ElementCount;
        _strides = StridesOf(_shape, header.Order);
        IsAligned = (nuint)_data % (nuint)AlignmentOf() == 0;
    }

    /// <summary>The file this array maps.</summary>
    public string Path { get; }

    /// <summary>How the file is mapped.</summary>
    public MappedAccess Access { get; }

    /// <summary>The file's header as read at open (metadata changed later through <see cref="MappedArray.UpdateMetadata"/> is not reflected).</summary>
    public NpyHeader Header { get; }

    /// <summary>Length of each dimension (a copy).</summary>
    public long[] Shape => (long[])_shape.Clone();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>C (row-major) or Fortran (column-major) layout of the data.</summary>
    public ArrayOrder Order => Header.Order;

    /// <summary>Number of elements.</summary>
    public long Length => Header.ElementCount;

    /// <summary>Size of the data in bytes.</summary>
    public long ByteLength => Header.DataLength;

    /// <summary>Whether the array offers writable access (<see cref="MappedAccess.ReadWrite"/> or <see cref="MappedAccess.CopyOnWrite"/>).</summary>
    public bool IsWritable => Access != MappedAccess.ReadOnly;

    /// <summary>Whether the mapping is covered by the fault guard (see <see cref="MappedArray.IsFaultGuardActive"/>).</summary>
    internal bool IsGuarded => _mapping.IsGuarded;

    /// <summary>Whether the data is aligned for <typeparamref name="T"/>, so that spans and <see cref="At"/> are offered.</summary>
    public bool IsAligned { get; }

    /// <summary>
    /// Creates (or replaces) the file at <paramref name="path"/> with a zero-filled array of the given shape and
    /// opens it read-write. The data is a sparse hole: creation costs neither disk nor time in the array size.
    /// </summary>
    /// <param name="path">The .npy file to create.</param>
    /// <param name="shape">Length of each dimension; an empty shape is a 0-d array of one element.</param>
    /// <param name="order">Layout of the data.</param>
    /// <param name="metadata">Optional JSON metadata stored in the header (at most about 9.8 KB, see <see cref="MetadataTooLargeException"/>).</param>
    public static MappedArray<T> Create(string path, ReadOnlySpan<long> shape, ArrayOrder order = ArrayOrder.C, JsonNode? metadata = null)
    {
        long bytes = ByteLengthOf(shape);
        byte[] header = NpyHeader.EncodeForNewFile(path, NpyDType.DescrOf<T>(), shape, order, NpyHeader.ToJson(metadata));
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.Write(header);
            stream.SetLength(header.Length + bytes);
        }
        return Open(path, MappedAccess.ReadWrite);
    }

    /// <summary>
    /// Creates a zero-filled array in shared memory under <paramref name="name"/> (the file
    /// <c>/dev/shm/NAME.npy</c>, see <see cref="MappedArray.SharedPath"/>) and opens it read-write; another process
    /// opens the same pages with <see cref="OpenShared"/>. Fails if an array of that name exists.
    /// </summary>
    /// <param name="name">1 to 200 letters, digits, '.', '_' or '-', not starting with '.'.</param>
    /// <param name="shape">Length of each dimension.</param>
    /// <param name="order">Layout of the data.</param>
    /// <param name="metadata">Optional JSON metadata stored in the header (at most about 9.8 KB, see <see cref="MetadataTooLargeException"/>).</param>
    /// <param name="permissions">Mode of the shared file; default owner read/write (0600).</param>
    /// <exception cref="IOException">A shared array of that name already exists.</exception>
    public static MappedArray<T> CreateShared(string name, ReadOnlySpan<long> shape, ArrayOrder order = ArrayOrder.C, JsonNode? metadata = null,
        UnixFileMode permissions = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        string path = MappedArray.SharedPath(name);
        long bytes = ByteLengthOf(shape);
        byte[] header = NpyHeader.EncodeForNewFile(path, NpyDType.DescrOf<T>(), shape, order, NpyHeader.ToJson(metadata));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = permissions;
        }
        FileStream stream;
        try
        {
            stream = new FileStream(path, options);
        }
        catch (IOException exception) when (File.Exists(path))
        {
            throw new IOException($"A shared array named '{name}' already exists ({path}); open it with OpenShared or remove it with MappedArray.DeleteShared.", exception);
        }
        try
        {
            using (stream)
            {
                stream.Write(header);
                stream.SetLength(header.Length + bytes);
            }
            return Open(path, MappedAccess.ReadWrite);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Opens the shared-memory array <paramref name="name"/> that another process created with <see cref="CreateShared"/>.</summary>
    /// <exception cref="FileNotFoundException">No shared array of that name exists.</exception>
    public static MappedArray<T> OpenShared(string name, MappedAccess access = MappedAccess.ReadOnly) =>
        Open(MappedArray.SharedPath(name), access);

    /// <summary>The mapping of the whole file, for a message part over the data (see <c>MessageBuilder.AddPart(MappedArray)</c>).</summary>
    internal MemoryMapping Mapping => _mapping;

    /// <summary>The address of the first element.</summary>
    internal nint DataAddress => (nint)_data;

    /// <summary>Writes <paramref name="data"/> (laid out in <paramref name="order"/>) to a new .npy file at <paramref name="path"/>.</summary>
    /// <param name="path">The .npy file to create or replace.</param>
    /// <param name="data">The elements, in the memory order given by <paramref name="order"/>.</param>
    /// <param name="shape">Length of each dimension; its product must equal the length of <paramref name="data"/>.</param>
    /// <param name="order">Layout of <paramref name="data"/>.</param>
    /// <param name="metadata">Optional JSON metadata stored in the header (at most about 9.8 KB, see <see cref="MetadataTooLargeException"/>).</param>
    public static void Save(string path, ReadOnlySpan<T> data, ReadOnlySpan<long> shape, ArrayOrder order = ArrayOrder.C, JsonNode? metadata = null)
    {
        long bytes = ByteLengthOf(shape);
        if (bytes != (long)data.Length * sizeof(T))
        {
            throw new ArgumentException($"The shape ({string.Join(", ", shape.ToArray())}) holds {bytes / sizeof(T)} elements but the data has {data.Length}.", nameof(shape));
        }
        byte[] header = NpyHeader.EncodeForNewFile(path, NpyDType.DescrOf<T>(), shape, order, NpyHeader.ToJson(metadata));
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
        stream.Write(header);
        // AsBytes would overflow past 2 GiB of bytes, so write whole elements in slices.
        int slice = (1 << 30) / sizeof(T);
        for (int start = 0; start < data.Length; start += slice)
        {
            stream.Write(MemoryMarshal.AsBytes(data.Slice(start, Math.Min(slice, data.Length - start))));
        }
    }

    /// <summary>Maps the .npy file at <paramref name="path"/>; nothing but the header is read.</summary>
    /// <exception cref="MappedArrayFormatException">The file is not a valid .npy file, its dtype is unsupported or is not <typeparamref name="T"/>, or it is shorter than its shape needs.</exception>
    public static MappedArray<T> Open(string path, MappedAccess access = MappedAccess.ReadOnly)
    {
        ArgumentNullException.ThrowIfNull(path);
        MappingAccess mappingAccess = access switch
        {
            MappedAccess.ReadOnly => MappingAccess.ReadOnly,
            MappedAccess.ReadWrite => MappingAccess.ReadWrite,
            MappedAccess.CopyOnWrite => MappingAccess.CopyOnWrite,
            _ => throw new ArgumentOutOfRangeException(nameof(access)),
        };
        // The descriptor stays open with the array, so the file's size can be checked later (see CheckFileSize).
        SafeFileHandle file = FileDescriptor.OpenExisting(path, writable: access == MappedAccess.ReadWrite);
        MemoryMapping? mapping = null;
        try
        {
            // Shared while the header is read, so MappedArray.UpdateMetadata (exclusive) cannot tear it.
            using FileDescriptor.FileLockScope headerLock = FileDescriptor.Lock(file, exclusive: false, path);
            long size = FileDescriptor.Size(file, path);
            if (size == 0)
            {
                throw new MappedArrayFormatException($"'{path}' is empty, not a .npy file.");
            }
            mapping = MemoryMapping.Map(file, size, mappingAccess, path);
            nint address = mapping.DangerousGetHandle();
            var prefix = new ReadOnlySpan<byte>((void*)address, (int)Math.Min(size, NpyHeader.MaxHeaderLength + 12));
            NpyHeader header = NpyHeader.Parse(prefix, size, path);
            if (header.ElementType != typeof(T))
            {
                throw new MappedArrayFormatException(
                    $"'{path}' holds '{header.Descr}' elements ({header.ElementType.Name}), not {typeof(T).Name}; open it as MappedArray<{header.ElementType.Name}>.");
            }
            return new MappedArray<T>(path, access, mapping, header, file);
        }
        catch
        {
            mapping?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws if the file is now shorter than the header and data need: another process truncated or replaced it
    /// while it was mapped. Checked whenever a span, chunk, copy, message part or flush is made, so those fail with a
    /// clear exception instead of touching pages the file no longer has (which would fault the process).
    /// </summary>
    /// <exception cref="MappedArrayFormatException">The file shrank while open.</exception>
    internal void CheckFileSize()
    {
        ObjectDisposedException.ThrowIf(_mapping.IsClosed, this);
        ThrowIfFaulted();
        long needed = Header.DataOffset + Header.DataLength;
        long size = FileDescriptor.Size(_file, Path);
        if (size < needed)
        {
            throw new MappedArrayFormatException(
                $"'{Path}' changed size while it was open: it now has {size} bytes but its header and data need {needed}. " +
                "Another process truncated or replaced it; dispose this array and open the file again.");
        }
    }

    /// <summary>Offset in elements from the start of the data of the element at <paramref name="index"/>.</summary>
    /// <exception cref="IndexOutOfRangeException">A coordinate is outside its dimension.</exception>
    public long OffsetOf(params ReadOnlySpan<long> index)
    {
        if (index.Length != _shape.Length)
        {
            throw new ArgumentException($"The array has {_shape.Length} dimensions but {index.Length} coordinates were given.", nameof(index));
        }
        long offset = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if ((ulong)index[i] >= (ulong)_shape[i])
            {
                throw new IndexOutOfRangeException($"Coordinate {index[i]} of dimension {i} is outside 0..{_shape[i] - 1}.");
            }
            offset += index[i] * _strides[i];
        }
        return offset;
    }

    /// <summary>The element at <paramref name="index"/> (works for any data alignment).</summary>
    public T Get(params ReadOnlySpan<long> index) => GetAt(OffsetOf(index));

    /// <summary>Stores <paramref name="value"/> at <paramref name="index"/> (works for any data alignment).</summary>
    /// <exception cref="InvalidOperationException">The array is read-only.</exception>
    public void Set(ReadOnlySpan<long> index, T value) => SetAt(OffsetOf(index), value);

    /// <summary>The element at <paramref name="offset"/> elements from the start of the data, in memory order.</summary>
    /// <exception cref="MappedArrayFormatException">Another process truncated the file and the element's page is gone.</exception>
    /// <exception cref="IOException">The kernel could not supply the element's page although the file is whole (filesystem out of space).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T GetAt(long offset)
    {
        CheckOffset(offset);
        T value = Unsafe.ReadUnaligned<T>(_data + offset * sizeof(T));
        ThrowIfFaulted();
        return value;
    }

    /// <summary>Stores <paramref name="value"/> at <paramref name="offset"/> elements from the start of the data, in memory order.</summary>
    /// <exception cref="InvalidOperationException">The array is read-only.</exception>
    /// <exception cref="MappedArrayFormatException">Another process truncated the file and the element's page is gone.</exception>
    /// <exception cref="IOException">The filesystem had no room for the element's page (a sparse file on a full filesystem).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetAt(long offset, T value)
    {
        CheckWritable();
        CheckOffset(offset);
        Unsafe.WriteUnaligned(_data + offset * sizeof(T), value);
        ThrowIfFaulted();
    }

    /// <summary>A reference to the element at <paramref name="index"/>, for writable, aligned arrays.</summary>
    /// <exception cref="InvalidOperationException">The array is read-only or its data is not aligned for <typeparamref name="T"/>.</exception>
    public ref T At(params ReadOnlySpan<long> index)
    {
        CheckWritable();
        CheckAligned();
        long offset = OffsetOf(index);
        ObjectDisposedException.ThrowIf(_mapping.IsClosed, this);
        ThrowIfFaulted();
        return ref Unsafe.AsRef<T>(_data + offset * sizeof(T));
    }

    /// <summary>The <paramref name="length"/> elements from <paramref name="start"/>, in memory order.</summary>
    /// <exception cref="InvalidOperationException">The data is not aligned for <typeparamref name="T"/>; use <see cref="CopyTo"/> or <see cref="GetAt"/>.</exception>
    public ReadOnlySpan<T> GetSpan(long start, int length)
    {
        CheckAligned();
        CheckRange(start, length);
        CheckFileSize();
        return new ReadOnlySpan<T>(_data + start * sizeof(T), length);
    }

    /// <summary>A writable view of the <paramref name="length"/> elements from <paramref name="start"/>, in memory order.</summary>
    /// <exception cref="InvalidOperationException">The array is read-only, or its data is not aligned for <typeparamref name="T"/>.</exception>
    public Span<T> GetWritableSpan(long start, int length)
    {
        CheckWritable();
        CheckAligned();
        CheckRange(start, length);
        CheckFileSize();
        return new Span<T>(_data + start * sizeof(T), length);
    }

    /// <summary>Copies elements from <paramref name="start"/> (memory order) into <paramref name="destination"/>; works for any alignment.</summary>
    public void CopyTo(long start, Span<T> destination)
    {
        CheckRange(start, destination.Length);
        CheckFileSize();
        new ReadOnlySpan<byte>(_data + start * sizeof(T), destination.Length * sizeof(T)).CopyTo(MemoryMarshal.AsBytes(destination));
        ThrowIfFaulted();
    }

    /// <summary>
    /// The whole data in memory order as consecutive chunks of at most <paramref name="maxChunkLength"/> elements
    /// (by default as many as an array can hold), for arrays larger than one span. Each chunk is valid until the array is disposed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The data is not aligned for <typeparamref name="T"/>.</exception>
    public IEnumerable<ReadOnlyMemory<T>> GetChunks(int maxChunkLength = 0)
    {
        CheckAligned();
        int chunk = maxChunkLength > 0 ? maxChunkLength : Array.MaxLength;
        return Enumerate(chunk);
    }

    private IEnumerable<ReadOnlyMemory<T>> Enumerate(int chunk)
    {
        for (long start = 0; start < Length; start += chunk)
        {
            CheckFileSize();
            yield return ChunkAt(start, (int)Math.Min(chunk, Length - start));
        }
    }

    // Iterators cannot hold unsafe code, so the pointer arithmetic lives here.
    private ReadOnlyMemory<T> ChunkAt(long start, int length) => new MappedMemory((T*)(_data + start * sizeof(T)), length).Memory;

    /// <summary>Writes changed pages of a <see cref="MappedAccess.ReadWrite"/> array to the file (msync); does nothing in other modes.</summary>
    public void Flush()
    {
        CheckFileSize();
        if (Access == MappedAccess.ReadWrite)
        {
            _mapping.Flush(Path);
        }
    }

    /// <summary>Unmaps the file. Changes of a ReadWrite array reach the file even without <see cref="Flush"/>; CopyOnWrite changes are dropped.</summary>
    public void Dispose()
    {
        _mapping.Dispose();
        _file.Dispose();
    }

    /// <summary>
    /// Throws if the fault guard had to replace pages of the mapping (the file shrank, or its filesystem had no room for
    /// a page). Called after each element
    /// access: the access itself completed on zero pages (a read saw zeros, a write was dropped), so its result must
    /// not be used. The flag is set on this thread by the signal handler during the access, which precedes this read
    /// in program order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfFaulted()
    {
        if (Volatile.Read(ref *_faulted) != 0)
        {
            ThrowPageLost();
        }
    }

    // Not NoInlining: the JIT then sees that it always throws and treats the call as one that does not return, so
    // the caller's values need not be saved around it (which would cost GetAt a store and reload per element).
    // Kept tiny for the same reason: the JIT only looks into small methods.
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowPageLost() => throw PageLost();

    /// <summary>
    /// What the fault guard's flag means: the file is now shorter than the array (another process truncated it), or,
    /// if it still has every byte, the kernel could not supply a page for another reason, in practice a filesystem
    /// out of space under a sparse file (tmpfs, /dev/shm) or a file truncated and grown again.
    /// </summary>
    private Exception PageLost()
    {
        long size = FileDescriptor.Size(_file, Path);
        long needed = Header.DataOffset + Header.DataLength;
        if (size >= needed)
        {
            return new IOException(
                $"The kernel could not supply a page of '{Path}' (SIGBUS) although the file has all its {needed} bytes: most likely its " +
                "filesystem is out of space for a page of this sparse file (a full /dev/shm or disk), or another process truncated it and " +
                "grew it again. That access read zeros or its write was dropped, and so will any through spans taken earlier. " +
                "Free space on the filesystem, then dispose this array and open the file again.");
        }
        return new MappedArrayFormatException(
            $"'{Path}' shrank while it was mapped (it now has {size} bytes; its header and data need {needed}): " +
            "another process truncated or replaced it, and the array touched a page the file no longer has. That access read zeros or " +
            "its write was dropped, and so will any through spans taken earlier. Dispose this array and open the file again.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckOffset(long offset)
    {
        if ((ulong)offset >= (ulong)_length || _mapping.IsClosed)
        {
            ThrowBadOffset(offset);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowBadOffset(long offset) => throw BadOffset(offset);

    private Exception BadOffset(long offset) =>
        _mapping.IsClosed
            ? new ObjectDisposedException(GetType().FullName)
            : new ArgumentOutOfRangeException(nameof(offset), offset, $"The array has {Length} elements.");

    private void CheckRange(long start, int length)
    {
        ObjectDisposedException.ThrowIf(_mapping.IsClosed, this);
        if (start < 0 || length < 0 || start > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"The range [{start}, {start}+{length}) is outside the array's {Length} elements.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckWritable()
    {
        if (Access == MappedAccess.ReadOnly)
        {
            ThrowReadOnly();
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowReadOnly() => throw ReadOnlyError();

    private InvalidOperationException ReadOnlyError() =>
        new($"'{Path}' is mapped read-only; open it with MappedAccess.ReadWrite or CopyOnWrite to write.");

    private void CheckAligned()
    {
        if (!IsAligned)
        {
            throw new InvalidOperationException(
                $"The data of '{Path}' starts at offset {Header.DataOffset}, not aligned for {typeof(T).Name}, so spans and references are not offered. " +
                "Use Get, Set, GetAt, SetAt or CopyTo, or realign the file with MappedArray.RewriteWithMetadata.");
        }
    }

    private static int AlignmentOf() =>
        typeof(T) == typeof(System.Numerics.Complex) || typeof(T) == typeof(Complex64) ? sizeof(T) / 2 : sizeof(T);

    private static long ByteLengthOf(ReadOnlySpan<long> shape)
    {
        NpyDType.DescrOf<T>();
        try
        {
            long count = 1;
            foreach (long dimension in shape)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(dimension, nameof(shape));
                count = checked(count * dimension);
            }
            return checked(count * sizeof(T));
        }
        catch (OverflowException e)
        {
            throw new ArgumentException("The shape describes more than 2^63 bytes.", nameof(shape), e);
        }
    }

    private static long[] StridesOf(long[] shape, ArrayOrder order)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (int k = 0; k < shape.Length; k++)
        {
            int i = order == ArrayOrder.C ? shape.Length - 1 - k : k;
            strides[i] = stride;
            stride *= shape[i];
        }
        return strides;
    }

    /// <summary>Exposes a range of the mapping as <see cref="Memory{T}"/>; owns nothing (the array owns the mapping).</summary>
    private sealed class MappedMemory(T* pointer, int length) : MemoryManager<T>
    {
        public override Span<T> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
