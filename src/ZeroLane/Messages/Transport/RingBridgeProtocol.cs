using System.Buffers.Binary;

namespace ZeroLane.Messages.Transport;

/// <summary>
/// What the two ends of a <see cref="RingBridge"/> say to each other: a stream of messages over one connection, from the
/// sender to the receiver.
/// </summary>
/// <remarks>
/// Three kinds of message, told apart by their body:
/// <list type="bullet">
/// <item>frame: body = the ring frame's sequence number (u64 big-endian, 8 bytes); one part = the frame's bytes;</item>
/// <item>metadata: body = ASCII "META"; one part = the buffer's metadata; at most once, before the frames that follow it;</item>
/// <item>end: body = ASCII "DONE"; no parts: the near writer disconnected and every frame was sent.</item>
/// </list>
/// After "DONE" the sender shuts down its side of the connection; the receiver disconnects its writer and
/// then closes, which tells the sender everything was delivered. A connection that ends without "DONE" is a
/// failure on both sides. Nothing flows from the receiver to the sender: back-pressure is TCP flow control.
/// </remarks>
internal static class RingBridgeProtocol
{
    internal static ReadOnlySpan<byte> MetadataTag => "META"u8;

    internal static ReadOnlySpan<byte> EndTag => "DONE"u8;

    internal const int SequenceLength = 8;

    internal enum Kind
    {
        Frame,
        Metadata,
        End,
        Unknown,
    }

    internal static Kind KindOf(ReadOnlySpan<byte> body, int partCount) => body.Length switch
    {
        SequenceLength when partCount == 1 => Kind.Frame,
        4 when partCount == 1 && body.SequenceEqual(MetadataTag) => Kind.Metadata,
        4 when partCount == 0 && body.SequenceEqual(EndTag) => Kind.End,
        _ => Kind.Unknown,
    };

    internal static ulong ReadSequence(ReadOnlySpan<byte> body) => BinaryPrimitives.ReadUInt64BigEndian(body);

    internal static void WriteSequence(Span<byte> body, ulong sequence) => BinaryPrimitives.WriteUInt64BigEndian(body, sequence);
}
