using System.Buffers.Binary;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// What the two ends of a <see cref="RingBridge"/> say to each other over one connection: frames from the sender to the
/// receiver, and the receiver's replies (ready, delivered, failed) back to the sender.
/// </summary>
/// <remarks>
/// Sender to receiver, three kinds of message told apart by their body:
/// <list type="bullet">
/// <item>frame: body = the ring frame's sequence number (u64 big-endian, 8 bytes); one part = the frame's bytes;</item>
/// <item>metadata: body = ASCII "META"; one part = the buffer's metadata; at most once, before the frames that follow it;</item>
/// <item>end: body = ASCII "DONE"; no parts: the near writer disconnected and every frame was sent.</item>
/// </list>
/// Receiver to sender:
/// <list type="bullet">
/// <item>ready: body = ASCII "REDY"; no parts: the far writer is connected, frames may come. Always the first reply;</item>
/// <item>delivered: body = ASCII "ACKD" + u64 count of frames committed to the far ring (12 bytes); no parts: the answer
/// to "DONE", sent once the far writer has disconnected;</item>
/// <item>failed: body = ASCII "FAIL" + u64 count of frames committed (12 bytes); one part = the reason in UTF-8: the
/// receiver cannot go on (instead of "REDY", or at any time after it).</item>
/// </list>
/// Back-pressure is TCP flow control; the replies are the only traffic from the receiver.
/// </remarks>
internal static class RingBridgeProtocol
{
    internal static ReadOnlySpan<byte> MetadataTag => "META"u8;

    internal static ReadOnlySpan<byte> EndTag => "DONE"u8;

    internal static ReadOnlySpan<byte> ReadyTag => "REDY"u8;

    internal static ReadOnlySpan<byte> DeliveredTag => "ACKD"u8;

    internal static ReadOnlySpan<byte> FailedTag => "FAIL"u8;

    internal const int SequenceLength = 8;

    private const int TagLength = 4;

    /// <summary>A reply that carries a count: the tag, then the count.</summary>
    internal const int CountedReplyLength = TagLength + 8;

    /// <summary>The longest failure reason a receiver sends (longer ones are cut) and a sender accepts.</summary>
    internal const int MaxReasonLength = 4096;

    internal enum Kind
    {
        Frame,
        Metadata,
        End,
        Unknown,
    }

    internal enum ReplyKind
    {
        Ready,
        Delivered,
        Failed,
        Unknown,
    }

    internal static Kind KindOf(ReadOnlySpan<byte> body, int partCount) => body.Length switch
    {
        SequenceLength when partCount == 1 => Kind.Frame,
        TagLength when partCount == 1 && body.SequenceEqual(MetadataTag) => Kind.Metadata,
        TagLength when partCount == 0 && body.SequenceEqual(EndTag) => Kind.End,
        _ => Kind.Unknown,
    };

    internal static ReplyKind ReplyKindOf(ReadOnlySpan<byte> body, int partCount) => body.Length switch
    {
        TagLength when partCount == 0 && body.SequenceEqual(ReadyTag) => ReplyKind.Ready,
        CountedReplyLength when partCount == 0 && body.StartsWith(DeliveredTag) => ReplyKind.Delivered,
        CountedReplyLength when partCount == 1 && body.StartsWith(FailedTag) => ReplyKind.Failed,
        _ => ReplyKind.Unknown,
    };

    internal static ulong ReadSequence(ReadOnlySpan<byte> body) => BinaryPrimitives.ReadUInt64BigEndian(body);

    internal static void WriteSequence(Span<byte> body, ulong sequence) => BinaryPrimitives.WriteUInt64BigEndian(body, sequence);

    internal static long ReadCount(ReadOnlySpan<byte> reply) => (long)BinaryPrimitives.ReadUInt64BigEndian(reply[TagLength..]);

    internal static byte[] CountedReply(ReadOnlySpan<byte> tag, long count)
    {
        byte[] body = new byte[CountedReplyLength];
        tag.CopyTo(body);
        BinaryPrimitives.WriteUInt64BigEndian(body.AsSpan(TagLength), (ulong)count);
        return body;
    }
}
