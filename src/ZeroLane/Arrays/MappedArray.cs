using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;

namespace ZeroLane.Arrays;

/// <summary>Operations on .npy array files that do not need the element type: header, metadata.</summary>
public static class MappedArray
{
    /// <summary>
    /// Whether the fault guard protects mapped arrays in this process: when another process truncates a mapped file,
    /// touching a page it no longer has throws <see cref="MappedArrayFormatException"/> instead of killing the process
    /// with SIGBUS. It needs libzerolane_native.so (built with ZeroLane when a C compiler is present) and installs a
    /// SIGBUS handler that passes every other SIGBUS to the runtime; ZEROLANE_FAULT_GUARD=0 switches it off.
    /// </summary>
    public static bool IsFaultGuardActive => Posix.FaultGuard.IsActive;

    /// <summary>Why <see cref="IsFaultGuardActive"/> is false, or null when it is true.</summary>
    public static string? FaultGuardInactiveReason => Posix.FaultGuard.InactiveReason;

    /// <summary>Reads the header of the .npy file at <paramref name="path"/> without reading or mapping its data.</summary>
    /// <exception cref="MappedArrayFormatException">The file is not a valid .npy file of a supported dtype.</exception>
    public static NpyHeader ReadHeader(string path) => NpyHeader.Read(path);

    /// <summary>
    /// The file of the shared-memory array <paramref name="name"/>: <c>/dev/shm/NAME.npy</c>. Names follow the buffer
    /// rules (1 to 200 letters, digits, '.', '_' or '-', not starting with '.'), so none can leave <c>/dev/shm</c>.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    public static string SharedPath(string name)
    {
        Ipc.ObjectNames.Validate(name, "shared array");
        return "/dev/shm/" + name + ".npy";
    }

    /// <summary>Removes the shared-memory array <paramref name="name"/>; processes that have it open keep their pages. False if absent.</summary>
    public static bool DeleteShared(string name)
    {
        string path = SharedPath(name);
        if (!File.Exists(path))
        {
            return false;
        }
        File.Delete(path);
        return true;
    }

    /// <summary>Reads the JSON metadata of an array file (null if it has none) without reading or mapping its data.</summary>
    /// <exception cref="MappedArrayFormatException">The file is not a valid .npy file of a supported dtype, or its metadata is not valid JSON.</exception>
    public static JsonNode? ReadMetadata(string path) => NpyHeader.Read(path).GetMetadata();

    /// <summary>
    /// Replaces the metadata of an array file in place: only the header is rewritten, the data neither moves
    /// nor is read. Arrays mapped with <see cref="MappedAccess.ReadWrite"/> stay valid. The header is written under an
    /// exclusive flock, which ZeroLane's header readers wait for, so they never see it half written (NumPy does not
    /// lock: do not update metadata while NumPy opens the file).
    /// </summary>
    /// <param name="path">The .npy file.</param>
    /// <param name="metadata">The new metadata, or null to remove it.</param>
    /// <exception cref="MetadataTooLargeException">The metadata does not fit in the header; call <see cref="RewriteWithMetadata"/>.</exception>
    public static void UpdateMetadata(string path, JsonNode? metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        using SafeFileHandle file = Posix.FileDescriptor.OpenExisting(path, writable: true);
        // Exclusive against ZeroLane's header readers (ReadHeader, ReadMetadata, Open), which take a shared lock.
        using Posix.FileDescriptor.FileLockScope scope = Posix.FileDescriptor.Lock(file, exclusive: true, path);
        NpyHeader header = NpyHeader.Read(file, path);
        string? json = NpyHeader.ToJson(metadata);
        byte[] bytes = NpyHeader.EncodeInPlace(header.Descr, header.Shape, header.Order, json, (int)header.DataOffset, header.MajorVersion)
            ?? throw NpyHeader.MetadataTooLarge(path, json?.Length ?? 0, header.MetadataCapacity);
        RandomAccess.Write(file, bytes, 0);
    }

    /// <summary>
    /// Rewrites an array file with new metadata and a header large enough for it (plus spare room, within the
    /// <see cref="NpyHeader.NumPyMaxHeaderLength"/> NumPy accepts), copying the data to its new offset. The file is
    /// replaced atomically; arrays already open keep mapping the old file.
    /// </summary>
    /// <param name="path">The .npy file.</param>
    /// <param name="metadata">The new metadata, or null to remove it.</param>
    /// <exception cref="MetadataTooLargeException">The metadata would make the header longer than NumPy loads by default.</exception>
    public static void RewriteWithMetadata(string path, JsonNode? metadata)
    {
        string temporary = $"{path}.zerolane-{Guid.NewGuid():N}.tmp";
        try
        {
            using (var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan))
            {
                NpyHeader header = NpyHeader.Read(source.SafeFileHandle, path);
                byte[] bytes = NpyHeader.EncodeForNewFile(path, header.Descr, header.Shape, header.Order, NpyHeader.ToJson(metadata));
                using var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                target.Write(bytes);
                source.Position = header.DataOffset;
                CopyExactly(source, target, header.DataLength, path);
                target.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static void CopyExactly(Stream source, Stream target, long count, string path)
    {
        byte[] buffer = new byte[1 << 20];
        while (count > 0)
        {
            int n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (n == 0)
            {
                throw new MappedArrayFormatException($"'{path}' ended before the end of its data while it was being rewritten.");
            }
            target.Write(buffer, 0, n);
            count -= n;
        }
    }
}
