using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Arrays;

/// <summary>
/// The header of a .npy file: element type, shape, order, where the data starts, and ZeroLane's JSON metadata.
/// </summary>
/// <remarks>
/// Design: the layout is NumPy's (numpy.lib.format). A file starts with the prelude
/// <c>"\x93NUMPY" major minor</c> and the header length (u16 little-endian for 1.0, u32 for 2.0 and 3.0), then
/// the header text: a Python dict literal, padded with spaces and ending in <c>'\n'</c>, so that the data
/// starts at a multiple of 64 bytes. ZeroLane's metadata is a Python comment after the dict
/// (<c>#zerolane-metadata:{json}</c>), which NumPy's parser (ast.literal_eval) ignores. The spaces after it
/// are spare room: metadata can grow in place until it reaches the data, which never moves.
/// </remarks>
public sealed class NpyHeader
{
    /// <summary>Alignment of the data offset in the files ZeroLane writes.</summary>
    public const int DataAlignment = 64;

    /// <summary>Spare header bytes ZeroLane leaves after the metadata when it writes a file, for in-place updates.</summary>
    public const int MetadataReserve = 1024;

    /// <summary>
    /// The longest header text NumPy (1.24 and later) loads without <c>allow_pickle=True</c> or a larger
    /// <c>max_header_size</c>: ZeroLane never writes a new file with a longer one, which bounds the metadata.
    /// </summary>
    public const int NumPyMaxHeaderLength = 10_000;

    /// <summary>The longest prelude and header of a new file: a multiple of 64 whose header text is within NumPy's limit.</summary>
    private const int MaxWrittenLength = (10 + NumPyMaxHeaderLength) / DataAlignment * DataAlignment;

    /// <summary>Header texts longer than this are refused as corrupt rather than read.</summary>
    internal const int MaxHeaderLength = 16 << 20;

    internal const string MetadataPrefix = "#zerolane-metadata:";

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static readonly JsonWriterOptions s_jsonWriterOptions = new() { Encoder = JavaScriptEncoder.Default, Indented = false };

    private readonly long[] _shape;
    private readonly string _path;

    private NpyHeader(string path, int major, int minor, string descr, ArrayOrder order, long[] shape, long elementCount, Type elementType,
        int itemSize, long dataOffset, string? metadataJson, int metadataCapacity)
    {
        _path = path;
        MajorVersion = major;
        MinorVersion = minor;
        Descr = descr;
        Order = order;
        _shape = shape;
        ElementCount = elementCount;
        ElementType = elementType;
        ItemSize = itemSize;
        DataOffset = dataOffset;
        MetadataJson = metadataJson;
        MetadataCapacity = metadataCapacity;
    }

    /// <summary>Format major version: 1, 2 or 3.</summary>
    public int MajorVersion { get; }

    /// <summary>Format minor version (always 0).</summary>
    public int MinorVersion { get; }

    /// <summary>NumPy dtype descriptor, such as <c>'&lt;f4'</c>.</summary>
    public string Descr { get; }

    /// <summary>C (row-major) or Fortran (column-major) layout.</summary>
    public ArrayOrder Order { get; }

    /// <summary>Length of each dimension (a copy).</summary>
    public long[] Shape => (long[])_shape.Clone();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements (the product of the shape).</summary>
    public long ElementCount { get; }

    /// <summary>The .NET element type the dtype maps to.</summary>
    public Type ElementType { get; }

    /// <summary>Size of one element in bytes.</summary>
    public int ItemSize { get; }

    /// <summary>Offset of the first element from the start of the file (prelude plus header text).</summary>
    public long DataOffset { get; }

    /// <summary>Size of the data in bytes.</summary>
    public long DataLength => ElementCount * ItemSize;

    /// <summary>The metadata as compact JSON text, or null if the header carries none.</summary>
    public string? MetadataJson { get; }

    /// <summary>How many bytes of JSON metadata this header can hold without moving the data.</summary>
    public int MetadataCapacity { get; }

    /// <summary>The metadata parsed as JSON, or null if the header carries none.</summary>
    /// <exception cref="MappedArrayFormatException">The header's metadata comment is not valid JSON.</exception>
    public JsonNode? GetMetadata()
    {
        if (MetadataJson is null)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(MetadataJson);
        }
        catch (JsonException e)
        {
            throw new MappedArrayFormatException(
                $"The metadata in the header of '{_path}' is not valid JSON ({e.Message}); the file is corrupt. " +
                "MappedArray.UpdateMetadata replaces it.", e);
        }
    }

    /// <summary>Reads the header of the .npy file at <paramref name="path"/>, without reading its data.</summary>
    /// <exception cref="MappedArrayFormatException">The file is not a valid .npy file of a supported dtype.</exception>
    public static NpyHeader Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using SafeFileHandle file = Posix.FileDescriptor.OpenExisting(path, writable: false);
        // Shared lock: MappedArray.UpdateMetadata rewrites the header under an exclusive one, so no torn header is read.
        using (Posix.FileDescriptor.Lock(file, exclusive: false, path))
        {
            return Read(file, path);
        }
    }

    internal static NpyHeader Read(SafeFileHandle file, string path)
    {
        (byte[] prefix, long fileLength) = ReadPrefix(file, path);
        return Parse(prefix, fileLength, path);
    }

    /// <summary>
    /// What the header of the .npy file at <paramref name="path"/> says, also for a dtype ZeroLane cannot map (then
    /// <see cref="NpyHeaderFacts.CannotMapReason"/> says why); reads the header only.
    /// </summary>
    /// <exception cref="MappedArrayFormatException">The file is not a valid .npy file.</exception>
    internal static NpyHeaderFacts Describe(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using SafeFileHandle file = Posix.FileDescriptor.OpenExisting(path, writable: false);
        using (Posix.FileDescriptor.Lock(file, exclusive: false, path))
        {
            (byte[] prefix, long fileLength) = ReadPrefix(file, path);
            return ParseFacts(prefix, fileLength, path);
        }
    }

    /// <summary>The prelude and header text of the file, and the file's length.</summary>
    private static (byte[] Prefix, long FileLength) ReadPrefix(SafeFileHandle file, string path)
    {
        long fileLength = RandomAccess.GetLength(file);
        Span<byte> prelude = stackalloc byte[12];
        prelude = prelude[..RandomAccess.Read(file, prelude[..(int)Math.Min(12, fileLength)], 0)];
        int headerEnd = HeaderEnd(prelude, fileLength, path);
        byte[] prefix = new byte[headerEnd];
        int read = 0;
        while (read < headerEnd)
        {
            int n = RandomAccess.Read(file, prefix.AsSpan(read), read);
            if (n == 0)
            {
                throw Truncated(path, $"its prelude and header take {headerEnd} bytes but the file ends after {read}");
            }
            read += n;
        }
        return (prefix, fileLength);
    }

    /// <summary>
    /// Validates the prelude (the first up to 12 bytes of the file) and returns the offset at which the
    /// header text ends, which is where the data starts.
    /// </summary>
    internal static int HeaderEnd(ReadOnlySpan<byte> start, long fileLength, string path)
    {
        if (start.Length < 8 || fileLength < 8)
        {
            if (!Magic[..Math.Min(6, start.Length)].SequenceEqual(start[..Math.Min(6, start.Length)]))
            {
                throw NotNpy(path);
            }
            throw Truncated(path, $"the file is only {fileLength} bytes long, shorter than the 10-byte .npy prelude");
        }
        if (!start[..6].SequenceEqual(Magic))
        {
            throw NotNpy(path);
        }
        int major = start[6];
        int minor = start[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw new MappedArrayFormatException($"'{path}' is a .npy file of format version {major}.{minor}; only versions 1.0, 2.0 and 3.0 are supported.");
        }
        int preludeLength = major == 1 ? 10 : 12;
        if (start.Length < preludeLength)
        {
            throw Truncated(path, $"the file is only {fileLength} bytes long, shorter than the {preludeLength}-byte prelude of version {major}.0");
        }
        uint headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(start[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(start[8..]);
        if (headerLength > MaxHeaderLength)
        {
            throw new MappedArrayFormatException($"'{path}' declares a header of {headerLength} bytes, more than the {MaxHeaderLength} ZeroLane accepts; the file is corrupt.");
        }
        if (headerLength == 0)
        {
            throw new MappedArrayFormatException($"'{path}' declares an empty header; the file is corrupt.");
        }
        long end = preludeLength + headerLength;
        if (end > fileLength)
        {
            throw Truncated(path, $"its prelude and header take {end} bytes but the file is only {fileLength} bytes long");
        }
        return (int)end;
    }

    /// <summary>Parses a header from <paramref name="prefix"/>, which holds at least the whole prelude and header text.</summary>
    /// <exception cref="MappedArrayFormatException">The header is not valid, or its dtype cannot be mapped.</exception>
    internal static NpyHeader Parse(ReadOnlySpan<byte> prefix, long fileLength, string path)
    {
        NpyHeaderFacts facts = ParseFacts(prefix, fileLength, path);
        if (facts.CannotMapReason is { } reason)
        {
            throw new MappedArrayFormatException(reason);
        }
        return new NpyHeader(path, facts.MajorVersion, 0, facts.Descr, facts.Order, facts.Shape, facts.ElementCount,
            facts.ElementType!, facts.ItemSize!.Value, facts.DataOffset, facts.MetadataJson, facts.MetadataCapacity);
    }

    /// <summary>What the header in <paramref name="prefix"/> says, whether or not its dtype can be mapped.</summary>
    private static NpyHeaderFacts ParseFacts(ReadOnlySpan<byte> prefix, long fileLength, string path)
    {
        int end = HeaderEnd(prefix[..Math.Min(12, prefix.Length)], fileLength, path);
        if (prefix.Length < end)
        {
            throw Truncated(path, $"its prelude and header take {end} bytes but only {prefix.Length} are available");
        }
        int major = prefix[6];
        int preludeLength = major == 1 ? 10 : 12;
        ReadOnlySpan<byte> raw = prefix[preludeLength..end];
        string text;
        if (major == 3)
        {
            try
            {
                text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(raw);
            }
            catch (DecoderFallbackException e)
            {
                throw new MappedArrayFormatException($"The header of '{path}' is not valid UTF-8, as version 3.0 requires.", e);
            }
        }
        else
        {
            text = Encoding.Latin1.GetString(raw);
        }

        var parsed = NpyHeaderText.Parse(text, path);
        Type? elementType = null;
        int? itemSize = null;
        string? cannotMap;
        if (parsed.Structured)
        {
            cannotMap = $"The array in '{path}' has the structured dtype {parsed.Descr}; only plain numeric dtypes are supported.";
        }
        else
        {
            (elementType, int size, cannotMap) = NpyDType.TryResolve(parsed.Descr);
            itemSize = elementType is not null ? size : NpyDType.ItemSizeOf(parsed.Descr);
        }
        long count = 1;
        long? dataLength = null;
        try
        {
            foreach (long dimension in parsed.Shape)
            {
                count = checked(count * dimension);
            }
            if (itemSize is { } known)
            {
                dataLength = checked(count * known);
            }
            // Only a dtype ZeroLane maps is known to take exactly ItemSize bytes per element in the file.
            if (elementType is not null && checked(end + dataLength!.Value) > fileLength)
            {
                throw Truncated(path, $"its shape ({string.Join(", ", parsed.Shape)}) of '{parsed.Descr}' needs {dataLength} data bytes after its {end}-byte header, but the file is only {fileLength} bytes long");
            }
        }
        catch (OverflowException)
        {
            throw new MappedArrayFormatException($"The shape ({string.Join(", ", parsed.Shape)}) in '{path}' describes more than 2^63 bytes; the file is corrupt.");
        }

        // Room for metadata: everything after the dict, less the prefix and the final newline.
        int capacity = Math.Max(0, Utf8Length(text, major) - Utf8Length(text[..parsed.DictEnd], major) - 1 - 1 - MetadataPrefix.Length);
        return new NpyHeaderFacts(major, parsed.Descr, parsed.Structured, parsed.FortranOrder ? ArrayOrder.Fortran : ArrayOrder.C, parsed.Shape,
            count, elementType, itemSize, dataLength, end, parsed.MetadataJson, capacity, cannotMap);
    }

    private static int Utf8Length(string text, int major) => major == 3 ? Encoding.UTF8.GetByteCount(text) : text.Length;

    /// <summary>Compact, single-line, ASCII-only JSON for <paramref name="metadata"/>, or null.</summary>
    internal static string? ToJson(JsonNode? metadata)
    {
        if (metadata is null)
        {
            return null;
        }
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, s_jsonWriterOptions))
        {
            metadata.WriteTo(writer);
        }
        // The default encoder escapes every non-ASCII character and every control character as \uXXXX, so the
        // text is one line of ASCII, valid in a Latin-1 (1.0, 2.0) or UTF-8 (3.0) header alike.
        return Encoding.ASCII.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>
    /// The prelude and header for a new file: version 1.0, padded so the data starts at a multiple of 64 with
    /// <see cref="MetadataReserve"/> spare bytes, but never longer than NumPy loads without being told to trust the
    /// file (<see cref="NumPyMaxHeaderLength"/>), so every file ZeroLane writes opens with a plain <c>numpy.load</c>.
    /// </summary>
    /// <exception cref="MetadataTooLargeException">The metadata would make the header longer than NumPy accepts.</exception>
    internal static byte[] EncodeForNewFile(string path, string descr, ReadOnlySpan<long> shape, ArrayOrder order, string? metadataJson)
    {
        StringBuilder text = HeaderText(descr, shape, order, metadataJson);
        const int prelude = 10;
        int bodyLength = text.Length + 1;
        if (prelude + bodyLength > MaxWrittenLength)
        {
            int capacity = MaxWrittenLength - prelude - (HeaderText(descr, shape, order, null).Length + 1 + MetadataPrefix.Length + 1);
            throw MetadataBeyondNumPyLimit(path, metadataJson?.Length ?? 0, capacity);
        }
        int total = Math.Min(RoundUp(prelude + bodyLength + MetadataReserve), MaxWrittenLength);
        return Assemble(text, total, major: 1);
    }

    /// <summary>
    /// The prelude and header for an existing file's header of exactly <paramref name="totalLength"/> bytes in format
    /// <paramref name="majorVersion"/>, so the data does not move; null when the header text does not fit.
    /// </summary>
    internal static byte[]? EncodeInPlace(string descr, ReadOnlySpan<long> shape, ArrayOrder order, string? metadataJson, int totalLength, int majorVersion)
    {
        StringBuilder text = HeaderText(descr, shape, order, metadataJson);
        int prelude = majorVersion == 1 ? 10 : 12;
        return prelude + text.Length + 1 > totalLength ? null : Assemble(text, totalLength, majorVersion);
    }

    /// <summary>The dict literal, then the metadata comment if there is metadata; no padding.</summary>
    private static StringBuilder HeaderText(string descr, ReadOnlySpan<long> shape, ArrayOrder order, string? metadataJson)
    {
        var text = new StringBuilder();
        text.Append("{'descr': '").Append(descr).Append("', 'fortran_order': ")
            .Append(order == ArrayOrder.Fortran ? "True" : "False").Append(", 'shape': (");
        for (int i = 0; i < shape.Length; i++)
        {
            text.Append(shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (shape.Length == 1)
            {
                text.Append(',');
            }
            else if (i < shape.Length - 1)
            {
                text.Append(", ");
            }
        }
        text.Append("), }");
        if (metadataJson is not null)
        {
            text.Append(' ').Append(MetadataPrefix).Append(metadataJson);
        }
        return text;
    }

    /// <summary>Prelude, header text, spaces up to <paramref name="total"/> bytes, and the final newline.</summary>
    private static byte[] Assemble(StringBuilder text, int total, int major)
    {
        int prelude = major == 1 ? 10 : 12;
        text.Append(' ', total - prelude - text.Length - 1).Append('\n');

        byte[] bytes = new byte[total];
        Magic.CopyTo(bytes);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), checked((ushort)(total - prelude)));
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)(total - prelude));
        }
        int written = Encoding.ASCII.GetBytes(text.ToString(), bytes.AsSpan(prelude));
        System.Diagnostics.Debug.Assert(written == total - prelude);
        return bytes;
    }

    private static int RoundUp(int length) => (length + DataAlignment - 1) / DataAlignment * DataAlignment;

    private static MappedArrayFormatException NotNpy(string path) =>
        new($"'{path}' is not a .npy file: it does not start with the magic string \"\\x93NUMPY\".");

    private static MappedArrayFormatException Truncated(string path, string what) =>
        new($"'{path}' is truncated or corrupt: {what}.");

    /// <summary>Metadata that no longer fits in the room left in an array file's header.</summary>
    internal static MetadataTooLargeException MetadataTooLarge(string path, int length, int capacity) =>
        new($"The metadata ({length} bytes of JSON) does not fit in the header of '{path}', which has room for {capacity}. " +
            "Call MappedArray.RewriteWithMetadata to rewrite the file with a larger header (this copies the data).", length, capacity);

    /// <summary>Metadata that would make a new file's header longer than NumPy loads by default.</summary>
    internal static MetadataTooLargeException MetadataBeyondNumPyLimit(string path, int length, int capacity) =>
        new($"The metadata ({length} bytes of JSON) is too large for the header of '{path}': NumPy refuses .npy headers longer than " +
            $"{NumPyMaxHeaderLength} bytes unless told to trust the file, so ZeroLane keeps metadata to at most {capacity} bytes for this array. " +
            "Store larger metadata in a file beside the array and put its name in the metadata.", length, capacity);
}
