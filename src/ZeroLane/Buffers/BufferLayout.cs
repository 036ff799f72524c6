namespace ZeroLane.Buffers;

/// <summary>
/// Where the blocks of a segment lie: <c>[OIEB 128][metadata block][payload block]</c>, both blocks
/// multiples of 64 bytes.
/// </summary>
internal readonly record struct BufferLayout(long MetadataBlockSize, long PayloadBlockSize)
{
    internal const long Alignment = 64;

    internal long MetadataOffset => OiebLayout.Size;

    internal long PayloadOffset => OiebLayout.Size + MetadataBlockSize;

    internal long TotalSize => OiebLayout.Size + MetadataBlockSize + PayloadBlockSize;

    internal static long Align(long size) => (size + Alignment - 1) & ~(Alignment - 1);

    /// <summary>The layout for requested sizes, rounded up as every peer does.</summary>
    internal static BufferLayout ForRequested(long metadataSize, long payloadSize) => new(Align(metadataSize), Align(payloadSize));
}
