namespace ZeroLane.Buffers;

/// <summary>
/// Byte layout of the Operation Info Exchange Block (OIEB), the 128-byte header at offset 0 of every
/// ZeroBuffer v1 shared memory segment. All fields are little-endian.
/// </summary>
/// <remarks>
/// <code>
///  0       4 5 6 7 8              16             24             32
///  +-------+-+-+-+-+--------------+--------------+--------------+
///  |oieb_sz|M|m|p|r| metadata_size| meta_free    | meta_written |
///  +-------+-+-+-+-+--------------+--------------+--------------+
/// 32              40             48             56             64
///  +--------------+--------------+--------------+--------------+
///  | payload_size | payload_free | write_pos    | read_pos     |
///  +--------------+--------------+--------------+--------------+
/// 64              72             80             88             96
///  +--------------+--------------+--------------+--------------+
///  | written_count| read_count   | writer_pid   | reader_pid   |
///  +--------------+--------------+--------------+--------------+
/// 96              104            112     116    120            128
///  +--------------+--------------+-------+------+--------------+
///  | writer_start | reader_start | magic | flags| writer_state |   ZeroLane extension (writer_state: 2 x connections + connected)
///  +--------------+--------------+-------+------+--------------+
/// </code>
/// Bytes 96..127 are reserved (zero) in the reference peers, which neither read nor write them; ZeroLane
/// keeps its compatible extension there. Ownership: the reader writes read_pos, read_count, reader_*,
/// magic and flags; the writer writes write_pos, written_count, writer_* and writer_state; both update payload_free_bytes
/// with atomic read-modify-write.
/// </remarks>
internal static class OiebLayout
{
    internal const int Size = 128;

    internal const int OiebSize = 0;          // u32, always 128
    internal const int VersionMajor = 4;      // u8
    internal const int VersionMinor = 5;      // u8
    internal const int VersionPatch = 6;      // u8
    internal const int VersionReserved = 7;   // u8
    internal const int MetadataSize = 8;
    internal const int MetadataFreeBytes = 16;
    internal const int MetadataWrittenBytes = 24;
    internal const int PayloadSize = 32;
    internal const int PayloadFreeBytes = 40;
    internal const int PayloadWritePos = 48;
    internal const int PayloadReadPos = 56;
    internal const int PayloadWrittenCount = 64;
    internal const int PayloadReadCount = 72;
    internal const int WriterPid = 80;
    internal const int ReaderPid = 88;

    // ZeroLane extension in the reserved bytes.
    internal const int WriterStartTime = 96;  // u64, /proc start time of writer_pid, 0 = unknown
    internal const int ReaderStartTime = 104; // u64, /proc start time of reader_pid, 0 = unknown
    internal const int ExtensionMagic = 112;  // u32, ExtensionMagicValue when the reader is ZeroLane
    internal const int ExtensionFlags = 116;  // u32, ReaderFlags
    internal const int WriterState = 120;     // u64, bit 0: a ZeroLane writer is connected; bits 1-63: ZeroLane writer connections so far

    internal const byte ProtocolMajor = 1;
    internal const byte ProtocolMinor = 0;
    internal const byte ProtocolPatch = 0;

    /// <summary>"ZLN1" as little-endian bytes.</summary>
    internal const uint ExtensionMagicValue = 0x314E4C5A;

    /// <summary>
    /// <see cref="WriterState"/> while a ZeroLane writer is connected. A writer that finds it set when it
    /// connects knows its predecessor died without disconnecting, and resynchronises before its first write.
    /// </summary>
    internal const ulong WriterStateConnected = 1;

    /// <summary>
    /// <see cref="WriterState"/> shifted right by this is the number of ZeroLane writers that have connected to the segment.
    /// Every writer starts its sequence numbers at 1, so a reader that sees sequence 1 again needs a connection to explain
    /// it; a stale frame read again after a corrupted written_count has none.
    /// </summary>
    internal const int WriterConnectionsShift = 1;
}

/// <summary>Capabilities a ZeroLane reader advertises in <see cref="OiebLayout.ExtensionFlags"/>.</summary>
[Flags]
internal enum ReaderFlags : uint
{
    None = 0,

    /// <summary>
    /// The reader finds frames by comparing written_count with what it consumed (not by counting
    /// semaphore units), so a wrap marker may be published on its own; it publishes read_pos, read_count
    /// and free bytes in ring order at release, so a drained ring (written_count == read_count) lets a new
    /// writer reset write_pos and payload_free_bytes exactly.
    /// </summary>
    CountsFramesAndReleasesInOrder = 1,

    /// <summary>
    /// The reader created this ring as one end of a ZeroLane duplex channel and speaks the extended duplex mode (version 1):
    /// responses carry a 16-byte header with the request's sequence number and an answer/error status, so answers may
    /// arrive out of order and errors travel apart from answers (PROTOCOL.md 14.5). A duplex peer uses that mode only when
    /// both rings of the channel carry this bit.
    /// </summary>
    SpeaksExtendedDuplex = 2,
}

/// <summary>The 16-byte header in front of every frame in the payload block.</summary>
/// <remarks>
/// <code>
/// 0              8              16
/// +--------------+--------------+---------------------
/// | payload_size | sequence     | payload_size bytes ...
/// +--------------+--------------+---------------------
/// </code>
/// payload_size = 0 and sequence = 0 is a wrap marker: the rest of the block is unused and the next
/// frame starts at offset 0.
/// </remarks>
internal static class FrameHeaderLayout
{
    internal const int Size = 16;
    internal const int PayloadSize = 0;
    internal const int Sequence = 8;
}
