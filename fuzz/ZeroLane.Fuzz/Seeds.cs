using System.Buffers.Binary;
using System.Text;
using ZeroLane.Arrays;
using ZeroLane.Buffers;
using ZeroLane.Ipc;
using ZeroLane.Messages;

namespace ZeroLane.Fuzz;

/// <summary>
/// Makes the seed corpus (<c>ZeroLane.Fuzz seeds DIR</c>): valid inputs of every shape each target knows, written by
/// ZeroLane itself where it can, so fuzzing starts from deep inside the formats. The output is checked in as fuzz/corpus.
/// </summary>
internal static class Seeds
{
    internal static void Write(string root)
    {
        foreach ((string target, string name, byte[] bytes) in All())
        {
            string directory = Path.Combine(root, target);
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }
    }

    private static IEnumerable<(string Target, string Name, byte[] Bytes)> All()
    {
        foreach ((string name, byte[] bytes) in Npy())
        {
            yield return ("npy-header", name, bytes);
        }
        foreach ((string name, byte[] bytes) in Messages())
        {
            yield return ("message-frame", name, bytes);
        }
        foreach ((string name, byte[] bytes) in Streams())
        {
            yield return ("message-stream", name, bytes);
        }
        foreach ((string name, byte[] bytes) in Rings())
        {
            yield return ("ring-headers", name, bytes);
        }
    }

    private static IEnumerable<(string, byte[])> Npy()
    {
        yield return ("f4-vector", WithData(NpyHeader.EncodeForNewFile("s", "<f4", [3], ArrayOrder.C, null), 12));
        yield return ("u1-matrix-fortran", WithData(NpyHeader.EncodeForNewFile("s", "|u1", [2, 3], ArrayOrder.Fortran, null), 6));
        yield return ("f8-scalar-metadata", WithData(NpyHeader.EncodeForNewFile("s", "<f8", [], ArrayOrder.C, "{\"unit\":\"m\",\"n\":[1,2]}"), 8));
        yield return ("c8-empty", NpyHeader.EncodeForNewFile("s", "<c8", [0, 4], ArrayOrder.C, null));
        yield return ("i2-v2", WithData(NpyHeader.EncodeInPlace(">i2", [2], ArrayOrder.C, "{}", 128, 2)!, 4));
        yield return ("b1-v3", WithData(NpyHeader.EncodeInPlace("|b1", [1, 1, 1], ArrayOrder.C, "{\"k\":\"v\"}", 128, 3)!, 1));
        // As NumPy writes them: double quotes are not ZeroLane's, a Python 2 long, a tuple without the trailing comma.
        yield return ("numpy-style", WithData(Handmade(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 1), }"), 16));
        yield return ("utf8-metadata-v3", WithData(Handmade(3, "{\"descr\": \"<u2\", \"fortran_order\": True, \"shape\": (1,)} #zerolane-metadata:{\"é\":1}"), 2));
    }

    private static byte[] Handmade(int major, string dict)
    {
        int prelude = major == 1 ? 10 : 12;
        byte[] text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(dict);
        int total = (prelude + text.Length + 1 + 63) / 64 * 64;
        byte[] bytes = new byte[total];
        "\x93NUMPY"u8.ToArray().CopyTo(bytes, 0);
        bytes[0] = 0x93;
        bytes[6] = (byte)major;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(total - prelude));
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)(total - prelude));
        }
        bytes.AsSpan(prelude).Fill((byte)' ');
        text.CopyTo(bytes, prelude);
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static byte[] WithData(byte[] header, int dataLength)
    {
        byte[] bytes = new byte[header.Length + dataLength];
        header.CopyTo(bytes, 0);
        for (int i = header.Length; i < bytes.Length; i++)
        {
            bytes[i] = (byte)i;
        }
        return bytes;
    }

    private static IEnumerable<(string, byte[])> Messages()
    {
        yield return ("empty", Encode([], []));
        yield return ("body-only", Encode("hello"u8.ToArray(), []));
        yield return ("two-parts", Encode("meta"u8.ToArray(), [[1, 2, 3], new byte[40]]));
        yield return ("empty-parts", Encode([], [[], [], [9]]));
    }

    private static IEnumerable<(string, byte[])> Streams()
    {
        byte[] stream = [.. Encode("a"u8.ToArray(), []), .. Encode([], [[1, 2], [3]]), .. Encode(new byte[100], [new byte[70]])];
        yield return ("three-whole", [0, .. stream]);
        yield return ("three-chunked-7", [7, .. stream]);
        yield return ("three-into-parts", [0x20 | 3, .. stream]);
        yield return ("truncated", [1, .. stream.AsSpan(0, stream.Length - 5)]);
    }

    private static byte[] Encode(byte[] body, byte[][] parts)
    {
        using Message message = Message.Create(body, [.. parts.Select(p => (ReadOnlyMemory<byte>)p)]);
        byte[] bytes = new byte[MessageEncoding.TotalLength(message)];
        int offset = MessageEncoding.WriteHeader(message, bytes);
        body.CopyTo(bytes, offset);
        offset += body.Length;
        foreach (byte[] part in parts)
        {
            part.CopyTo(bytes, offset);
            offset += part.Length;
        }
        return bytes;
    }

    /// <summary>
    /// Rings as a real writer leaves them: the whole OIEB (mask 0xFFFF), metadata and payload blocks after some frames were written,
    /// some of them read and released, so the seeds hold valid frame headers, wrap markers and counters in agreement.
    /// </summary>
    private static IEnumerable<(string, byte[])> Rings()
    {
        yield return ("fresh", Snapshot(mode: 0, write: [], readFirst: 0));
        yield return ("three-frames", Snapshot(mode: 0, write: [10, 100, 50], readFirst: 0));
        yield return ("wrapped", Snapshot(mode: 2, write: [200, 200, 30, 150], readFirst: 2));
        yield return ("messages", Snapshot(mode: 4, write: [], readFirst: 0, messages: true));
        yield return ("writer-connects", Snapshot(mode: 1 | (5 << 3), write: [64], readFirst: 1));
        yield return ("metadata", Snapshot(mode: 0, write: [20], readFirst: 0, metadata: [1, 2, 3, 4, 5]));
        yield return ("no-metadata-block", Snapshot(mode: 0x80 | 1, write: [30, 40], readFirst: 1));
    }

    private static byte[] Snapshot(byte mode, int[] write, int readFirst, bool messages = false, byte[]? metadata = null)
    {
        var platform = new FuzzPlatform();
        string name = $"zlseed-{Environment.ProcessId}";
        int metadataSize = (mode & 0x80) == 0 ? RingHeadersTarget.MetadataSize : 0;
        var options = new ReaderOptions
        {
            MetadataSize = metadataSize, PayloadSize = RingHeadersTarget.PayloadSize, LockDirectory = RingHeadersTarget.LockDirectory,
        };
        using var reader = new RingReader(name, options, platform);
        using var region = new MappedRegion(platform.Created!.Mapping);
        using (var writer = new RingWriter(name, new WriterOptions(), platform))
        {
            if (metadata is not null)
            {
                writer.SetMetadata(metadata);
            }
            for (int i = 0; i < readFirst; i++)
            {
                writer.Write(new byte[write[i]], TimeSpan.Zero);
                reader.Read(TimeSpan.Zero).Dispose();
            }
            foreach (int length in write.Skip(readFirst))
            {
                writer.Write(Enumerable.Range(0, length).Select(b => (byte)b).ToArray(), TimeSpan.Zero);
            }
            if (messages)
            {
                writer.WriteMessage(Message.Create("body"u8.ToArray(), [new byte[] { 1, 2 }, new byte[30]]), TimeSpan.Zero);
                writer.WriteMessage(Message.Create(new byte[3], []), TimeSpan.Zero);
            }
        }
        byte[] input = new byte[3 + 16 * 8 + metadataSize + RingHeadersTarget.PayloadSize];
        input[0] = mode;
        BinaryPrimitives.WriteUInt16LittleEndian(input.AsSpan(1), 0xFFFF);
        for (int i = 0; i < 16; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(input.AsSpan(3 + 8 * i), region.ReadUInt64(8 * i));
        }
        // The metadata block and the payload block follow the OIEB in the segment as in the input.
        region.GetSpan(OiebLayout.Size, metadataSize + RingHeadersTarget.PayloadSize).CopyTo(input.AsSpan(3 + 128));
        return input;
    }
}
