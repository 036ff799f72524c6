using System.Buffers.Binary;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// A buffer built by hand from the spec, as a reference (non-ZeroLane) reader would create it: the segment
/// as a plain file in /dev/shm with its OIEB filled in little-endian, and the two semaphores created through
/// libc. It can also read frames by hand the way the reference readers do (credit at read, marker handling),
/// so a RingWriter can be checked against it byte by byte.
/// </summary>
internal sealed class HandMadeBuffer : IDisposable
{
    /// <summary>Filler for the payload block, so that every byte a writer leaves untouched stands out.</summary>
    internal const byte Junk = 0xEE;

    private HandMadeBuffer(string name, RawSegment segment, PeerSemaphore writeSemaphore, PeerSemaphore readSemaphore, long metadataSize, long payloadSize)
    {
        Name = name;
        Segment = segment;
        WriteSemaphore = writeSemaphore;
        ReadSemaphore = readSemaphore;
        MetadataSize = metadataSize;
        PayloadSize = payloadSize;
    }

    internal string Name { get; }

    internal RawSegment Segment { get; }

    /// <summary>sem-w: posted by the writer once per logical frame.</summary>
    internal PeerSemaphore WriteSemaphore { get; }

    /// <summary>sem-r: posted by the reader when it frees space.</summary>
    internal PeerSemaphore ReadSemaphore { get; }

    /// <summary>The aligned metadata block size.</summary>
    internal long MetadataSize { get; }

    /// <summary>The aligned payload block size.</summary>
    internal long PayloadSize { get; }

    internal long MetadataOffset => SpecLayout.OiebSize;

    internal long PayloadOffset => SpecLayout.OiebSize + MetadataSize;

    /// <summary>
    /// Creates the objects a reference reader creates that a writer needs (not the lock file):
    /// semaphores first, then the segment. <paramref name="tamper"/> may change the OIEB before it is published.
    /// </summary>
    internal static HandMadeBuffer Create(string name, long metadataSize, long payloadSize, Action<RawSegment>? tamper = null)
    {
        long metadata = SpecLayout.Align(metadataSize);
        long payload = SpecLayout.Align(payloadSize);
        PeerSemaphore writeSemaphore = PeerSemaphore.Create(PeerSemaphore.WriteName(name));
        PeerSemaphore readSemaphore = PeerSemaphore.Create(PeerSemaphore.ReadName(name));
        RawSegment segment = RawSegment.Create(name, SpecLayout.OiebSize + metadata + payload);
        segment.Bytes(SpecLayout.OiebSize + metadata, checked((int)payload)).Fill(Junk);
        segment.SetU8(SpecLayout.VersionMajor, 1);
        segment.SetU8(SpecLayout.VersionMinor, 0);
        segment.SetU8(SpecLayout.VersionPatch, 0);
        segment.SetU8(SpecLayout.VersionReserved, 0);
        segment.SetU64(SpecLayout.MetadataSize, (ulong)metadata);
        segment.SetU64(SpecLayout.MetadataFreeBytes, (ulong)metadata);
        segment.SetU64(SpecLayout.MetadataWrittenBytes, 0);
        segment.SetU64(SpecLayout.PayloadSize, (ulong)payload);
        segment.SetU64(SpecLayout.PayloadFreeBytes, (ulong)payload);
        segment.SetU64(SpecLayout.PayloadWritePos, 0);
        segment.SetU64(SpecLayout.PayloadReadPos, 0);
        segment.SetU64(SpecLayout.PayloadWrittenCount, 0);
        segment.SetU64(SpecLayout.PayloadReadCount, 0);
        segment.SetU64(SpecLayout.WriterPid, 0);
        segment.SetU64(SpecLayout.ReaderPid, (ulong)Environment.ProcessId);
        segment.SetU32(SpecLayout.OiebSizeField, SpecLayout.OiebSize);
        tamper?.Invoke(segment);
        return new HandMadeBuffer(name, segment, writeSemaphore, readSemaphore, metadata, payload);
    }

    internal ulong FreeBytes => Segment.U64(SpecLayout.PayloadFreeBytes);

    internal ulong WritePosition => Segment.U64(SpecLayout.PayloadWritePos);

    internal ulong ReadPosition => Segment.U64(SpecLayout.PayloadReadPos);

    internal ulong WrittenCount => Segment.U64(SpecLayout.PayloadWrittenCount);

    internal ulong ReadCount => Segment.U64(SpecLayout.PayloadReadCount);

    /// <summary>The 16 header bytes at a payload offset: (payload_size, sequence).</summary>
    internal (ulong Size, ulong Sequence) HeaderAt(long payloadPosition)
    {
        Span<byte> header = Segment.Bytes(PayloadOffset + payloadPosition, SpecLayout.FrameHeaderSize);
        return (BinaryPrimitives.ReadUInt64LittleEndian(header), BinaryPrimitives.ReadUInt64LittleEndian(header[8..]));
    }

    internal Span<byte> PayloadBytes(long payloadPosition, int length) => Segment.Bytes(PayloadOffset + payloadPosition, length);

    /// <summary>
    /// Reads the next published frame the way the reference readers do: at read_pos, treating a marker
    /// (and a remainder under 16 bytes) as a wrap, crediting the frame at once and posting sem-r. Returns
    /// false when written_count says nothing is pending. Does not consume sem-w, so tests can count its posts.
    /// </summary>
    internal bool TryReadFrame(out byte[] payload, out ulong sequence)
    {
        payload = [];
        sequence = 0;
        if (WrittenCount == ReadCount)
        {
            return false;
        }
        long position = (long)ReadPosition;
        long spaceToEnd = PayloadSize - position;
        if (spaceToEnd < SpecLayout.FrameHeaderSize)
        {
            Segment.AddU64(SpecLayout.PayloadFreeBytes, spaceToEnd);
            position = 0;
            spaceToEnd = PayloadSize;
        }
        (ulong size, ulong seq) = HeaderAt(position);
        if (size == 0 && seq == 0)
        {
            Segment.AddU64(SpecLayout.PayloadFreeBytes, spaceToEnd);
            Segment.SetU64(SpecLayout.PayloadReadPos, 0);
            Segment.SetU64(SpecLayout.PayloadReadCount, ReadCount + 1);
            position = 0;
            (size, seq) = HeaderAt(0);
        }
        if (size == 0 || (long)size > PayloadSize - position - SpecLayout.FrameHeaderSize)
        {
            throw new InvalidDataException($"Hand reader: impossible header ({size}, {seq}) at payload offset {position}.");
        }
        payload = PayloadBytes(position + SpecLayout.FrameHeaderSize, (int)size).ToArray();
        sequence = seq;
        long total = SpecLayout.FrameHeaderSize + (long)size;
        long next = (position + total) % PayloadSize;
        Segment.SetU64(SpecLayout.PayloadReadPos, (ulong)next);
        Segment.SetU64(SpecLayout.PayloadReadCount, ReadCount + 1);
        Segment.AddU64(SpecLayout.PayloadFreeBytes, total);
        ReadSemaphore.Post();
        return true;
    }

    public void Dispose()
    {
        Segment.Dispose();
        WriteSemaphore.Dispose();
        ReadSemaphore.Dispose();
        TestBuffers.Remove(Name);
    }
}
