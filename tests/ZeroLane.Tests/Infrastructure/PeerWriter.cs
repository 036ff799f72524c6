using System.Buffers.Binary;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// Writes frames by hand into an existing buffer (for example one a RingReader created), following the
/// spec's writer flow as the reference peers do: header and payload at write_pos, a wrap marker when the
/// frame does not fit before the end, and no marker when the remainder is too short for one (the implicit
/// short tail of defect 1), then free bytes, write_pos, written_count and one sem-w post.
/// </summary>
internal sealed class PeerWriter : IDisposable
{
    private readonly PeerSemaphore _writeSemaphore;
    private readonly PeerSemaphore _readSemaphore;

    /// <param name="name">The buffer.</param>
    /// <param name="countsShortTailAsItem">
    /// Follow the reference Python writer, which adds one to written_count when it wraps at a tail too short for a
    /// marker although it writes no marker there; by default follow the C++ writer, which counts only the frame.
    /// </param>
    internal PeerWriter(string name, bool countsShortTailAsItem = false)
    {
        CountsShortTailAsItem = countsShortTailAsItem;
        Segment = RawSegment.Open(name);
        _writeSemaphore = PeerSemaphore.Open(PeerSemaphore.WriteName(name));
        _readSemaphore = PeerSemaphore.Open(PeerSemaphore.ReadName(name));
        PayloadSize = (long)Segment.U64(SpecLayout.PayloadSize);
        PayloadOffset = SpecLayout.OiebSize + (long)Segment.U64(SpecLayout.MetadataSize);
    }

    internal RawSegment Segment { get; }

    /// <summary>True when short tails are counted as an item (the Python convention).</summary>
    internal bool CountsShortTailAsItem { get; }

    internal long PayloadSize { get; }

    internal long PayloadOffset { get; }

    internal long WritePosition => (long)Segment.U64(SpecLayout.PayloadWritePos);

    internal ulong FreeBytes => Segment.U64(SpecLayout.PayloadFreeBytes);

    internal ulong WrittenCount => Segment.U64(SpecLayout.PayloadWrittenCount);

    internal int ReadSemaphoreValue => _readSemaphore.Value;

    /// <summary>Claims the buffer as its writer: writer_pid = this process.</summary>
    internal void Connect() => Connect(Environment.ProcessId);

    /// <summary>Claims the buffer as a writer with process ID <paramref name="pid"/>, as a peer writer of another process would.</summary>
    internal void Connect(int pid) => Segment.SetU64(SpecLayout.WriterPid, (ulong)pid);

    /// <summary>Graceful end: writer_pid = 0, then one sem-w post so a waiting reader notices.</summary>
    internal void Disconnect()
    {
        Segment.SetU64(SpecLayout.WriterPid, 0);
        _writeSemaphore.Post();
    }

    /// <summary>
    /// Writes one frame per the spec. Throws if payload_free_bytes says a peer would have to wait (tests
    /// arrange for space, since this helper does not block).
    /// </summary>
    internal void WriteFrame(ReadOnlySpan<byte> payload, ulong sequence)
    {
        long total = SpecLayout.FrameHeaderSize + payload.Length;
        long position = WritePosition;
        long spaceToEnd = PayloadSize - position;
        long required = spaceToEnd >= total ? total : spaceToEnd + total;
        if ((long)FreeBytes < required)
        {
            throw new InvalidOperationException($"Peer writer would wait: {required} bytes needed, payload_free_bytes is {FreeBytes}.");
        }
        ulong items = 1;
        if (spaceToEnd < total)
        {
            if (spaceToEnd >= SpecLayout.FrameHeaderSize)
            {
                WriteHeader(position, 0, 0);
                items++;
            }
            else if (CountsShortTailAsItem)
            {
                // A tail shorter than a header gets no marker, but the Python writer counts one anyway: a phantom item.
                items++;
            }
            // else: a tail shorter than a header, left without a marker and uncounted, as the C++ writer does.
            Segment.AddU64(SpecLayout.PayloadFreeBytes, -spaceToEnd);
            position = 0;
        }
        WriteHeader(position, (ulong)payload.Length, sequence);
        payload.CopyTo(Segment.Bytes(PayloadOffset + position + SpecLayout.FrameHeaderSize, payload.Length));
        Publish(position + total, total, items);
    }

    /// <summary>
    /// Publishes a raw header (and optional bytes) at write_pos with no checks at all: for corruption tests.
    /// Advances write_pos by <paramref name="advance"/> bytes (mod payload size).
    /// </summary>
    internal void WriteRawFrame(ulong size, ulong sequence, ReadOnlySpan<byte> bytes, long advance)
    {
        long position = WritePosition;
        WriteHeader(position, size, sequence);
        bytes.CopyTo(Segment.Bytes(PayloadOffset + position + SpecLayout.FrameHeaderSize, bytes.Length));
        Publish(position + advance, advance, 1);
    }

    private void WriteHeader(long position, ulong size, ulong sequence)
    {
        Span<byte> header = Segment.Bytes(PayloadOffset + position, SpecLayout.FrameHeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(header, size);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], sequence);
    }

    private void Publish(long end, long consumed, ulong items)
    {
        Segment.SetU64(SpecLayout.PayloadWritePos, (ulong)(end % PayloadSize));
        Segment.AddU64(SpecLayout.PayloadFreeBytes, -consumed);
        Segment.SetU64(SpecLayout.PayloadWrittenCount, WrittenCount + items);
        _writeSemaphore.Post();
    }

    public void Dispose()
    {
        Segment.Dispose();
        _writeSemaphore.Dispose();
        _readSemaphore.Dispose();
    }
}
