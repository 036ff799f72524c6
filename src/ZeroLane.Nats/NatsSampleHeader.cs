using System.Buffers;
using System.Buffers.Text;

namespace ZeroLane.Nats;

/// <summary>What a received NATS message's ZeroLane headers say (PROTOCOL.md 16.2), parsed from the raw header block.</summary>
internal ref struct NatsSampleHeader
{
    /// <summary>True if the message carries ZeroLane's version header; false for a plain NATS message.</summary>
    internal bool IsZeroLane;
    internal ulong Gateway;
    internal ulong Publisher;
    internal ulong Sequence;
    internal long Timestamp;
    internal long Length;
    internal bool Chunked;
    internal int ChunkIndex;
    internal int ChunkCount;

    /// <summary>The parts list ("BODY,PART0,..."), empty when the payload is the sample as it is.</summary>
    internal ReadOnlySpan<byte> Parts;

    /// <summary>A ring bridge's control message kind ("meta", "end"); empty for a sample or frame.</summary>
    internal ReadOnlySpan<byte> Kind;

    /// <summary>
    /// Parses <paramref name="block"/> (NATS.Net's raw header bytes, "NATS/1.0\r\n" and "Key: value\r\n" lines).
    /// <paramref name="scratch"/> holds the block when it arrives in pieces; <see cref="Parts"/> may point into either.
    /// False with <paramref name="error"/> when the block is ours but malformed.
    /// </summary>
    internal static bool TryParse(ReadOnlySequence<byte>? block, Span<byte> scratch, out NatsSampleHeader header, out string? error)
    {
        header = default;
        error = null;
        if (block is not { } headers || headers.IsEmpty)
        {
            return true;
        }
        if (headers.Length > scratch.Length)
        {
            error = $"a header block of {headers.Length} bytes (at most {scratch.Length})";
            return false;
        }
        ReadOnlySpan<byte> text;
        if (headers.IsSingleSegment)
        {
            text = headers.FirstSpan;
        }
        else
        {
            headers.CopyTo(scratch);
            text = scratch[..(int)headers.Length];
        }
        bool version = false, gateway = false, sequence = false, length = false;
        int lineEnd = text.IndexOf("\r\n"u8);
        // The first line is the status line ("NATS/1.0"); then one header per line up to an empty one.
        text = lineEnd < 0 ? default : text[(lineEnd + 2)..];
        while (!text.IsEmpty)
        {
            lineEnd = text.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = lineEnd < 0 ? text : text[..lineEnd];
            text = lineEnd < 0 ? default : text[(lineEnd + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }
            ReadOnlySpan<byte> key = line[..colon];
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim((byte)' ');
            if (key.SequenceEqual("Zl-V"u8))
            {
                version = true;
                if (!value.SequenceEqual("1"u8))
                {
                    error = $"version '{System.Text.Encoding.ASCII.GetString(value)}' (this gateway speaks 1)";
                    return false;
                }
            }
            else if (key.SequenceEqual("Zl-Gw"u8))
            {
                gateway = TryHex(value, out header.Gateway);
            }
            else if (key.SequenceEqual("Zl-Pub"u8))
            {
                TryHex(value, out header.Publisher);
            }
            else if (key.SequenceEqual("Zl-Seq"u8))
            {
                sequence = TryHex(value, out header.Sequence);
            }
            else if (key.SequenceEqual("Zl-Ts"u8))
            {
                TryHex(value, out ulong timestamp);
                header.Timestamp = (long)timestamp;
            }
            else if (key.SequenceEqual("Zl-Len"u8))
            {
                length = TryHex(value, out ulong total) && total <= int.MaxValue;
                header.Length = (long)total;
            }
            else if (key.SequenceEqual("Zl-Chunk"u8))
            {
                if (value.Length != 17 || value[8] != (byte)'/' ||
                    !Utf8Parser.TryParse(value[..8], out uint index, out int used, 'x') || used != 8 ||
                    !Utf8Parser.TryParse(value[9..], out uint count, out used, 'x') || used != 8 ||
                    count == 0 || index >= count || count > int.MaxValue)
                {
                    error = $"a malformed chunk header '{System.Text.Encoding.ASCII.GetString(value)}'";
                    return false;
                }
                header.Chunked = true;
                header.ChunkIndex = (int)index;
                header.ChunkCount = (int)count;
            }
            else if (key.SequenceEqual("Zl-Parts"u8))
            {
                header.Parts = value;
            }
            else if (key.SequenceEqual("Zl-Kind"u8))
            {
                header.Kind = value;
            }
        }
        if (!version)
        {
            return true;
        }
        if (!gateway || !sequence || !length)
        {
            error = "ZeroLane headers without a valid Zl-Gw, Zl-Seq and Zl-Len";
            return false;
        }
        header.IsZeroLane = true;
        return true;
    }

    private static bool TryHex(ReadOnlySpan<byte> value, out ulong result) =>
        Utf8Parser.TryParse(value, out result, out int used, 'x') && used == value.Length && value.Length > 0;
}
