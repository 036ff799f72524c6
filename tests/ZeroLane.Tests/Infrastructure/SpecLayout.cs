namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// The ZeroBuffer v1 wire layout typed in from /work/shared/spec/zerobuffer-v1.md, independently of the
/// library's own layout types, so that tests reading or writing segments by hand check the library
/// against the spec rather than against itself.
/// </summary>
internal static class SpecLayout
{
    internal const int OiebSize = 128;
    internal const int Alignment = 64;

    // OIEB field offsets (spec table "OIEB (Operation Info Exchange Block)").
    internal const int OiebSizeField = 0;          // u32, always 128
    internal const int VersionMajor = 4;           // u8
    internal const int VersionMinor = 5;           // u8
    internal const int VersionPatch = 6;           // u8
    internal const int VersionReserved = 7;        // u8
    internal const int MetadataSize = 8;           // u64
    internal const int MetadataFreeBytes = 16;     // u64
    internal const int MetadataWrittenBytes = 24;  // u64
    internal const int PayloadSize = 32;           // u64
    internal const int PayloadFreeBytes = 40;      // u64
    internal const int PayloadWritePos = 48;       // u64
    internal const int PayloadReadPos = 56;        // u64
    internal const int PayloadWrittenCount = 64;   // u64
    internal const int PayloadReadCount = 72;      // u64
    internal const int WriterPid = 80;             // u64
    internal const int ReaderPid = 88;             // u64
    internal const int Reserved = 96;              // 4 x u64

    // ZeroLane's extension inside the reserved bytes (context: OIEB extension).
    internal const int WriterStartTime = 96;
    internal const int ReaderStartTime = 104;
    internal const int ExtensionMagic = 112;
    internal const int ExtensionFlags = 116;
    internal const uint ExtensionMagicValue = 0x314E4C5A; // "ZLN1"

    // Frame header: [u64 payload_size][u64 sequence].
    internal const int FrameHeaderSize = 16;
    internal const int FramePayloadSize = 0;
    internal const int FrameSequence = 8;

    internal static long Align(long size) => (size + Alignment - 1) / Alignment * Alignment;

    /// <summary>Offset of the payload block for a metadata block of the given (requested) size.</summary>
    internal static long PayloadOffset(long metadataSize) => OiebSize + Align(metadataSize);
}
