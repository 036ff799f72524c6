using System.Buffers.Binary;
using ZeroLane.Messages;

namespace ZeroLane.Fuzz;

/// <summary>
/// The message frame decoder (<see cref="MessageEncoding"/>): the input is one frame as a ring carries it, length prefix
/// included, decoded the way <see cref="FrameMessages.DecodeFrame"/> does (prefix checked against the frame, then the
/// header, then the body and parts as slices). Corrupt input may only be refused with <see cref="MessageFormatException"/>.
/// </summary>
/// <remarks>
/// A message that decodes must account for every byte of the frame: header, body and parts back to back, in order, and
/// the allocation-free validator (<c>Validate</c>, used by <see cref="MessageView"/>) must agree with the decoder.
/// </remarks>
public sealed class MessageFrameTarget : FuzzTarget
{
    private static readonly MessageLimits s_limits = new() { MaxMessageLength = 1 << 20, MaxParts = 64 };

    public override string Name => "message-frame";

    public override string Description => "MessageEncoding.ReadPrefix, Validate and Decode on one frame (prefix, header, body, parts)";

    public override IReadOnlyList<byte[]> Tokens { get; } = MessageTokens.All;

    protected override void Execute(ReadOnlySpan<byte> input)
    {
        ReadOnlyMemory<byte> frame = input.ToArray();
        long announced = MessageEncoding.ReadPrefix(frame.Span, s_limits);
        Check(announced >= MessageEncoding.FixedHeaderSize && announced <= s_limits.MaxMessageLength, $"prefix {announced} accepted");
        if (announced != frame.Length - MessageEncoding.PrefixSize)
        {
            // DecodeFrame refuses this frame before decoding; decode what the prefix announces, as a stream receiver does.
            if (announced > frame.Length - MessageEncoding.PrefixSize)
            {
                return;
            }
            frame = frame[..(MessageEncoding.PrefixSize + (int)announced)];
        }
        ReadOnlyMemory<byte> message = frame[MessageEncoding.PrefixSize..];
        bool validated;
        (int PartCount, int HeaderLength, int BodyLength) shape = default;
        try
        {
            shape = MessageEncoding.Validate(message.Span, s_limits);
            validated = true;
        }
        catch (MessageFormatException)
        {
            validated = false;
        }

        using Message decoded = DecodeOrNull(message, validated);
        if (decoded is null)
        {
            return;
        }
        Check(decoded.PartCount == shape.PartCount && decoded.Body.Length == shape.BodyLength, "Validate and Decode disagree on the shape");
        Check(shape.HeaderLength == MessageEncoding.FixedHeaderSize + 8 * shape.PartCount, $"header length {shape.HeaderLength}");
        long offset = shape.HeaderLength;
        Check(SameBytes(decoded.Body, message, offset), "the body is not the bytes after the header");
        offset += decoded.Body.Length;
        for (int i = 0; i < decoded.PartCount; i++)
        {
            ReadOnlyMemory<byte> part = decoded.Parts[i];
            Check((ulong)part.Length == BinaryPrimitives.ReadUInt64BigEndian(message.Span[(16 + 8 * i)..]), $"part {i} has the wrong length");
            Check(SameBytes(part, message, offset), $"part {i} is not where the header puts it");
            offset += part.Length;
        }
        Check(offset == message.Length, $"the message's {message.Length} bytes are not all accounted for ({offset})");
    }

    private static Message DecodeOrNull(ReadOnlyMemory<byte> message, bool validated)
    {
        try
        {
            Message decoded = MessageEncoding.Decode(message, s_limits);
            Check(validated, "Decode accepted a message Validate refused");
            return decoded;
        }
        catch (MessageFormatException)
        {
            Check(!validated, "Decode refused a message Validate accepted");
            return null!;
        }
    }

    private static bool SameBytes(ReadOnlyMemory<byte> slice, ReadOnlyMemory<byte> whole, long offset) =>
        offset + slice.Length <= whole.Length && slice.Span.SequenceEqual(whole.Span.Slice((int)offset, slice.Length)) &&
        (slice.Length == 0 || System.Runtime.CompilerServices.Unsafe.AreSame(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(slice.Span),
            ref System.Runtime.CompilerServices.Unsafe.AsRef(in whole.Span[(int)offset])));

    protected override bool IsDocumented(Exception exception) => exception is MessageFormatException;
}

/// <summary>Dictionary words for the message formats: big-endian lengths and counts as headers hold them.</summary>
internal static class MessageTokens
{
    internal static IReadOnlyList<byte[]> All { get; } =
    [
        BigEndian(0), BigEndian(16), BigEndian(24), BigEndian(32), BigEndian(1 << 20), BigEndian(ulong.MaxValue),
        BigEndian(1UL << 63), BigEndian(int.MaxValue), [0, 0, 0, 1], [0, 0, 0, 2], [0, 0, 0, 64], [0, 0, 0, 65],
        [0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0],
    ];

    private static byte[] BigEndian(ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }
}
