using System.Runtime.CompilerServices;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Buffers;

/// <summary>
/// Typed access to the OIEB of a mapped ring segment (its layout is <see cref="OiebLayout"/>): the writer's and reader's
/// identity words, validation of a segment found in /dev/shm, and initialisation by a creating reader.
/// </summary>
internal readonly struct Oieb
{
    internal Oieb(MappedRegion region) => Region = region;

    internal MappedRegion Region { get; }

    /// <summary>writer_pid and the writer's start time (ZeroLane extension).</summary>
    internal PeerSlot Writer => new(Region, OiebLayout.WriterPid, OiebLayout.WriterStartTime);

    /// <summary>reader_pid and the reader's start time (ZeroLane extension).</summary>
    internal PeerSlot Reader => new(Region, OiebLayout.ReaderPid, OiebLayout.ReaderStartTime);

    /// <summary>True when a ZeroLane reader created the segment (it set the extension's magic).</summary>
    internal bool HasZeroLaneReader => Region.ReadUInt32Acquire(OiebLayout.ExtensionMagic) == OiebLayout.ExtensionMagicValue;

    /// <summary>True when the reader counts frames and releases in ring order (<see cref="ReaderFlags.CountsFramesAndReleasesInOrder"/>).</summary>
    internal bool ReaderCountsFrames =>
        HasZeroLaneReader && ((ReaderFlags)Region.ReadUInt32Acquire(OiebLayout.ExtensionFlags)).HasFlag(ReaderFlags.CountsFramesAndReleasesInOrder);

    /// <summary>True when a ZeroLane reader created the segment and advertises every capability in <paramref name="flags"/>.</summary>
    internal bool ReaderAdvertises(ReaderFlags flags) =>
        HasZeroLaneReader && ((ReaderFlags)Region.ReadUInt32Acquire(OiebLayout.ExtensionFlags) & flags) == flags;

    /// <summary>Throws if the segment lost pages (see <see cref="MappedRegion.HasLostPages"/>): the zeros read mean that.</summary>
    /// <exception cref="BufferCorruptedException">The segment of buffer <paramref name="name"/> lost its pages.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfLostPages(string name)
    {
        if (Region.HasLostPages)
        {
            ThrowHelper.ThrowSegmentLost(name);
        }
    }

    /// <summary>
    /// Fills a fresh (zeroed) segment's OIEB for a reader: fields first, oieb_size last (release), so a writer that sees
    /// oieb_size == 128 sees a fully initialised block.
    /// </summary>
    internal void Initialize(BufferLayout layout, ProcessIdentity reader, ReaderFlags advertised = ReaderFlags.None)
    {
        Region.WriteByte(OiebLayout.VersionMajor, OiebLayout.ProtocolMajor);
        Region.WriteByte(OiebLayout.VersionMinor, OiebLayout.ProtocolMinor);
        Region.WriteByte(OiebLayout.VersionPatch, OiebLayout.ProtocolPatch);
        Region.WriteUInt64(OiebLayout.MetadataSize, (ulong)layout.MetadataBlockSize);
        Region.WriteUInt64(OiebLayout.MetadataFreeBytes, (ulong)layout.MetadataBlockSize);
        Region.WriteUInt64(OiebLayout.PayloadSize, (ulong)layout.PayloadBlockSize);
        Region.WriteUInt64(OiebLayout.PayloadFreeBytes, (ulong)layout.PayloadBlockSize);
        Reader.Initialize(reader);
        Region.WriteUInt32Release(OiebLayout.ExtensionFlags, (uint)(ReaderFlags.CountsFramesAndReleasesInOrder | advertised));
        Region.WriteUInt32Release(OiebLayout.ExtensionMagic, OiebLayout.ExtensionMagicValue);
        // release [OIEB-ready]: pairs with the writer's acquire load of oieb_size in Validate.
        Region.WriteUInt32Release(OiebLayout.OiebSize, OiebLayout.Size);
    }

    /// <summary>Checks a segment's OIEB and returns its block sizes.</summary>
    /// <exception cref="BufferNotFoundException">The reader is still creating the segment.</exception>
    /// <exception cref="IncompatibleBufferException">The segment is not ZeroBuffer v1.</exception>
    /// <exception cref="BufferCorruptedException">The block sizes do not fit the segment.</exception>
    internal (long MetadataSize, long PayloadSize) Validate(string name)
    {
        // acquire [OIEB-ready]: pairs with the reader's release store of oieb_size; every other field is set.
        uint oiebSize = Region.ReadUInt32Acquire(OiebLayout.OiebSize);
        if (oiebSize == 0)
        {
            throw NotFound(name, "its reader is still creating it");
        }
        if (oiebSize != OiebLayout.Size)
        {
            throw new IncompatibleBufferException(
                $"Buffer '{name}' has oieb_size {oiebSize}; ZeroBuffer v1 requires 128. It was written by an incompatible implementation or is corrupted.");
        }
        byte major = Region.ReadByte(OiebLayout.VersionMajor);
        if (major != OiebLayout.ProtocolMajor)
        {
            throw new IncompatibleBufferException(
                $"Buffer '{name}' uses protocol version {major}.{Region.ReadByte(OiebLayout.VersionMinor)}.{Region.ReadByte(OiebLayout.VersionPatch)}; " +
                "ZeroLane speaks major version 1 only.");
        }
        ulong metadataSize = Region.ReadUInt64(OiebLayout.MetadataSize);
        ulong payloadSize = Region.ReadUInt64(OiebLayout.PayloadSize);
        if (payloadSize <= FrameHeaderLayout.Size || metadataSize > (ulong)Region.Length || payloadSize > (ulong)Region.Length ||
            OiebLayout.Size + metadataSize + payloadSize > (ulong)Region.Length)
        {
            throw new BufferCorruptedException(
                $"Buffer '{name}' is corrupted: metadata_size {metadataSize} and payload_size {payloadSize} do not fit its {Region.Length}-byte segment.");
        }
        // Every peer rounds both blocks up to 64 bytes, and the smallest payload block is 64 (PROTOCOL.md): other sizes
        // were not written by a reader, and a block below 32 bytes would take frames of one length only.
        if (metadataSize % (ulong)BufferLayout.Alignment != 0 || payloadSize % (ulong)BufferLayout.Alignment != 0)
        {
            throw new BufferCorruptedException(
                $"Buffer '{name}' is corrupted: metadata_size {metadataSize} and payload_size {payloadSize} must be multiples of " +
                $"{BufferLayout.Alignment}, as every reader makes them. Recreate the buffer.");
        }
        return ((long)metadataSize, (long)payloadSize);
    }

    /// <summary>Whether the segment holds a ZeroBuffer v1 OIEB (oieb_size 128, major version 1), without throwing.</summary>
    internal bool LooksValid =>
        Region.ReadUInt32Acquire(OiebLayout.OiebSize) == OiebLayout.Size && Region.ReadByte(OiebLayout.VersionMajor) == OiebLayout.ProtocolMajor;

    /// <summary>
    /// The reader recorded in the segment named <paramref name="sharedMemoryName"/>, looked at read-only without attaching;
    /// null if there is no segment or it is too short to hold an OIEB.
    /// </summary>
    internal static ProcessIdentity? PeekReader(IIpcPlatform platform, string sharedMemoryName)
    {
        using SharedMemory? existing = platform.OpenSharedMemory(sharedMemoryName, writable: false);
        if (existing is null || existing.Length < OiebLayout.Size)
        {
            return null;
        }
        using var region = new MappedRegion(existing.Mapping);
        return new Oieb(region).Reader.Read();
    }

    internal static BufferNotFoundException NotFound(string name, string why) =>
        new($"Buffer '{name}' was not found: {why}. A reader creates the buffer and the writer connects to it, so start the reader first.");
}
