using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ZeroLane.Buffers;
using ZeroLane.Ipc;
using ZeroLane.Messages;

namespace ZeroLane.Fuzz;

/// <summary>
/// A ring's OIEB and frame headers as another process may leave them: a <see cref="RingReader"/> creates a small buffer
/// (64-byte metadata block, or none, and a 512-byte payload block), then the input overwrites OIEB words and the payload
/// block, the reader reads its metadata and stats, then (at most 64) frames, perhaps a <see cref="RingWriter"/> connects (validating the OIEB) and writes, and the
/// reader reads again. Corrupt words may only be refused with <see cref="BufferCorruptedException"/> (and, for the
/// writer's connection, the other documented refusals); every frame read must lie inside the payload block.
/// </summary>
/// <remarks>
/// Input: byte 0 is the mode (bit 0: connect a writer and write; bit 1: hold frames until the end instead of releasing
/// each at once; bit 2: decode every frame as a message; bits 3-6: the lengths of the frames the writer writes; bit 7: no
/// metadata block), bytes
/// 1-2 a little-endian mask of the OIEB's sixteen 8-byte words to overwrite, then 8 bytes (little-endian) for each word
/// in the mask, then the metadata block's bytes (64, or none), then the payload block's from its start. The buffer lives in /dev/shm for the duration of one input
/// and is always removed (a dead fuzzing process's buffers are removed by the next reader created in its lock directory).
/// </remarks>
public sealed class RingHeadersTarget : FuzzTarget
{
    internal const int MetadataSize = 64;
    internal const int PayloadSize = 512;
    private const int MaxReads = 64;
    private static int s_count;
    private static readonly MessageLimits s_limits = new() { MaxMessageLength = PayloadSize, MaxParts = 8 };

    public override string Name => "ring-headers";

    public override string Description => "a RingReader (and a connecting RingWriter) over an OIEB and payload block taken from the input";

    public override IReadOnlyList<byte[]> Tokens { get; } =
    [
        LittleEndian(0), LittleEndian(1), LittleEndian(16), LittleEndian(64), LittleEndian(128), LittleEndian(496), LittleEndian(512),
        LittleEndian(513), LittleEndian(ulong.MaxValue), LittleEndian((ulong)Environment.ProcessId), LittleEndian(0x0000_0001_0000_0080),
        LittleEndian(0x314E4C5A), LittleEndian(3),
    ];

    /// <summary>The lock directory of the target's buffers: one per user, so a crashed run's leftovers are found by the next.</summary>
    internal static string LockDirectory => Path.Combine(Path.GetTempPath(), "zerolane-fuzz-locks");

    protected override void Execute(ReadOnlySpan<byte> input)
    {
        byte mode = input.Length > 0 ? input[0] : (byte)0;
        var platform = new FuzzPlatform();
        string name = $"zlfuzz-{Environment.ProcessId}-{Interlocked.Increment(ref s_count)}";
        int metadataSize = (mode & 0x80) == 0 ? MetadataSize : 0;
        var options = new ReaderOptions { MetadataSize = metadataSize, PayloadSize = PayloadSize, LockDirectory = LockDirectory };
        using var reader = new RingReader(name, options, platform);
        using var region = new MappedRegion(platform.Created!.Mapping);
        long payloadOffset = OiebLayout.Size + metadataSize;
        Apply(input, region, metadataSize);
        ReadMetadata(reader, region, metadataSize);
        reader.GetStats();

        var held = new List<Frame>();
        try
        {
            ReadAll(reader, region, payloadOffset, mode, held);
            if ((mode & 1) != 0)
            {
                WriteSome(name, platform, mode);
                ReadAll(reader, region, payloadOffset, mode, held);
            }
        }
        finally
        {
            foreach (Frame frame in held)
            {
                frame.Dispose();
            }
        }
    }

    /// <summary>Overwrites the OIEB words the mask names, then the metadata block, then the payload block, from the input.</summary>
    private static void Apply(ReadOnlySpan<byte> input, MappedRegion region, int metadataSize)
    {
        ushort mask = input.Length >= 3 ? BinaryPrimitives.ReadUInt16LittleEndian(input[1..]) : (ushort)0;
        int at = 3;
        Span<byte> word = stackalloc byte[8];
        for (int i = 0; i < 16; i++)
        {
            if ((mask & (1 << i)) == 0)
            {
                continue;
            }
            word.Clear();
            if (at < input.Length)
            {
                input.Slice(at, Math.Min(8, input.Length - at)).CopyTo(word);
            }
            at += 8;
            region.WriteUInt64(8 * i, BinaryPrimitives.ReadUInt64LittleEndian(word));
        }
        if (at < input.Length)
        {
            ReadOnlySpan<byte> metadata = input[at..];
            metadata[..Math.Min(metadata.Length, metadataSize)].CopyTo(region.GetSpan(OiebLayout.Size, metadataSize));
            at += metadataSize;
        }
        if (at < input.Length)
        {
            ReadOnlySpan<byte> payload = input[at..];
            payload[..Math.Min(payload.Length, PayloadSize)].CopyTo(region.GetSpan(OiebLayout.Size + metadataSize, PayloadSize));
        }
    }

    /// <summary>The metadata the OIEB's words describe: it must lie inside the metadata block, after its length prefix.</summary>
    private static void ReadMetadata(RingReader reader, MappedRegion region, int metadataSize)
    {
        ReadOnlySpan<byte> metadata = reader.GetMetadata();
        if (metadata.IsEmpty)
        {
            return;
        }
        long start = (long)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(region.GetSpan(0, OiebLayout.Size)), ref MemoryMarshal.GetReference(metadata));
        Check(start == OiebLayout.Size + 8 && start + metadata.Length <= OiebLayout.Size + metadataSize,
            $"{metadata.Length} bytes of metadata at offset {start} lie outside the {metadataSize}-byte metadata block at offset {OiebLayout.Size}");
    }

    private static void ReadAll(RingReader reader, MappedRegion region, long payloadOffset, byte mode, List<Frame> held)
    {
        ref byte payloadStart = ref MemoryMarshal.GetReference(region.GetSpan(payloadOffset, PayloadSize));
        for (int i = 0; i < MaxReads; i++)
        {
            if (reader.TryRead(out Frame frame, TimeSpan.Zero) != ReadStatus.Success)
            {
                return;
            }
            ReadOnlySpan<byte> span = frame.Span;
            Check(span.Length == frame.Length, $"a frame of length {frame.Length} has a span of {span.Length}");
            long start = span.IsEmpty ? 0 : (long)Unsafe.ByteOffset(ref payloadStart, ref MemoryMarshal.GetReference(span));
            Check(start >= FrameHeaderLayout.Size && start + span.Length <= PayloadSize,
                $"a frame of {span.Length} bytes at payload offset {start} lies outside the {PayloadSize}-byte payload block");
            if ((mode & 4) != 0)
            {
                try
                {
                    FrameMessages.DecodeFrame(frame, s_limits).Dispose();
                }
                catch (MessageFormatException)
                {
                    Check(frame.IsReleased, "a frame refused as a message was not released");
                }
                continue;
            }
            if ((mode & 2) != 0)
            {
                held.Add(frame);
            }
            else
            {
                frame.Dispose();
            }
        }
    }

    /// <summary>Connects a writer to the OIEB as the input left it, and writes a few frames without waiting.</summary>
    private static void WriteSome(string name, FuzzPlatform platform, byte mode)
    {
        using var writer = new RingWriter(name, new WriterOptions(), platform);
        byte[] data = new byte[PayloadSize];
        int lengths = mode >> 3;
        for (int i = 0; i < 4; i++)
        {
            int length = ((lengths >> i) & 1) == 0 ? 8 + 40 * i : 200 + 40 * i;
            if (writer.TryWrite(data.AsSpan(0, Math.Min(length, writer.MaxFrameLength)), TimeSpan.Zero) != WriteStatus.Success)
            {
                return;
            }
        }
    }

    protected override bool IsDocumented(Exception exception) =>
        exception is BufferCorruptedException or IncompatibleBufferException or BufferNotFoundException or ReaderGoneException
            or WriterAlreadyConnectedException;

    private static byte[] LittleEndian(ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }
}
