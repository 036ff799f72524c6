using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using ZeroLane.Posix;

namespace ZeroLane.Duplex;

/// <summary>What a look at a service file finds.</summary>
internal enum DuplexServiceState
{
    /// <summary>No service file.</summary>
    Absent,

    /// <summary>The file exists but its owner has not written its identity yet (or died before it did).</summary>
    Starting,

    /// <summary>The recorded service process runs.</summary>
    Alive,

    /// <summary>The recorded service process is gone.</summary>
    Dead,

    /// <summary>Another user's file, or one that is not a regular file: not ours to judge.</summary>
    Unreadable,
}

/// <summary>
/// The bytes of a service's files (PROTOCOL.md 14.6): the service file holds the owner's PID and start time (u64 each,
/// little-endian); a join file is empty until the service refuses the client, then holds the reason in UTF-8. Every file
/// is opened with O_NOFOLLOW, so a symbolic link planted at one of these paths is refused, never followed.
/// </summary>
internal static class DuplexServiceFile
{
    /// <summary>Bytes of a complete service file.</summary>
    internal const int OwnerLength = 16;

    /// <summary>The longest refusal written into a join file, in bytes.</summary>
    internal const int MaxRefusalLength = 1024;

    /// <summary>Writes the owner's identity into the service file the caller holds the lock on.</summary>
    internal static void WriteOwner(string path, ProcessIdentity owner)
    {
        Span<byte> bytes = stackalloc byte[OwnerLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)owner.Pid);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], owner.StartTime);
        using SafeFileHandle handle = Open(path) ?? throw new IOException($"The service file '{path}' vanished while the service was starting.");
        RandomAccess.Write(handle, bytes, 0);
    }

    /// <summary>Whether the service of the file at <paramref name="path"/> runs, judged by the identity it recorded.</summary>
    internal static DuplexServiceState Check(IIpcPlatform platform, string path) => Read(platform, path).State;

    /// <summary>As <see cref="Check"/>, with the PID the file records (0 if none).</summary>
    internal static (DuplexServiceState State, int Pid) Read(IIpcPlatform platform, string path)
    {
        Span<byte> bytes = stackalloc byte[OwnerLength];
        int length;
        try
        {
            using SafeFileHandle? handle = Open(path);
            if (handle is null)
            {
                return (DuplexServiceState.Absent, 0);
            }
            length = RandomAccess.Read(handle, bytes, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (DuplexServiceState.Unreadable, 0);
        }
        if (length < OwnerLength)
        {
            return (DuplexServiceState.Starting, 0);
        }
        ulong pid = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong startTime = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (pid is 0 or > int.MaxValue)
        {
            return (DuplexServiceState.Dead, 0);
        }
        return (platform.IsAlive(new ProcessIdentity((int)pid, startTime)) ? DuplexServiceState.Alive : DuplexServiceState.Dead, (int)pid);
    }

    /// <summary>Writes the reason for refusing a client into its join file; false if the file is gone (the client gave up).</summary>
    internal static bool WriteRefusal(string joinPath, string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        int length = text.Length <= MaxRefusalLength ? text.Length : Utf8Cut(text, MaxRefusalLength);
        try
        {
            using SafeFileHandle? handle = Open(joinPath);
            if (handle is null)
            {
                return false;
            }
            RandomAccess.Write(handle, text.AsSpan(0, length), 0);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The refusal the service wrote into the join file, or null while there is none.</summary>
    internal static string? ReadRefusal(string joinPath)
    {
        byte[] text = new byte[MaxRefusalLength];
        int length;
        try
        {
            using SafeFileHandle? handle = Open(joinPath);
            if (handle is null)
            {
                return null;
            }
            length = RandomAccess.Read(handle, text, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return length == 0 ? null : Encoding.UTF8.GetString(text, 0, length);
    }

    /// <summary>Opens an existing file read-write without following a link; null if there is none.</summary>
    private static SafeFileHandle? Open(string path) => FileDescriptor.TryOpenExistingNoFollow(path, "a service's path");

    /// <summary>The longest prefix of <paramref name="text"/>, at most <paramref name="max"/> bytes, that ends on a character boundary.</summary>
    private static int Utf8Cut(byte[] text, int max)
    {
        int cut = max;
        while (cut > 0 && (text[cut] & 0xC0) == 0x80)
        {
            cut--;
        }
        return cut;
    }
}
