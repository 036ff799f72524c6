using System.Buffers.Binary;
using System.Text;
using ZeroLane.Messages;

namespace ZeroLane.Duplex;

/// <summary>What a message on a duplex stream is (byte 5 of its envelope).</summary>
internal enum DuplexSocketKind : byte
{
    /// <summary>Client to server: a request; part 0 and after are the request's body and parts.</summary>
    Request = 1,

    /// <summary>Server to client: the answer to the request of the same correlation id.</summary>
    Answer = 2,

    /// <summary>Server to client: the handler failed the request of the same correlation id; part 0 is UTF-8 text.</summary>
    Failure = 3,

    /// <summary>Server to client, correlation id 0: the server ends the connection; part 0 is UTF-8 text saying why.</summary>
    Goodbye = 4,
}

/// <summary>
/// The 16-byte envelope that every message on a duplex stream carries as its body (PROTOCOL.md section 15), and the
/// limits and checks around it.
/// </summary>
/// <remarks>
/// Design: a duplex stream is an ordinary message stream (section 11) whose messages each have the envelope as their
/// body and the carried message's body as part 0, its parts as parts 1 and after. So the envelope costs one 16-byte
/// segment and one part length on the wire, the carried body and parts still go out in place (vectored), and a received
/// message becomes the carried one by dropping its body (<see cref="Message.PromoteFirstPartToBody"/>), not by copying.
/// <code>
/// offset 0   u32  magic 0x5A4C4458 ("ZLDX")
/// offset 4   u8   version 1
/// offset 5   u8   kind (DuplexSocketKind)
/// offset 6   u16  reserved, 0
/// offset 8   u64  correlation id (0 only in a Goodbye)
/// </code>
/// </remarks>
internal static class DuplexSocketEnvelope
{
    /// <summary>Bytes of the envelope.</summary>
    internal const int Size = 16;

    /// <summary>"ZLDX", big-endian.</summary>
    internal const uint Magic = 0x5A4C4458;

    /// <summary>The one version this code speaks.</summary>
    internal const byte Version = 1;

    /// <summary>What the envelope adds to a carried message's encoded length: its 16 bytes and part 0's 8-byte length.</summary>
    internal const int WireOverhead = Size + 8;

    /// <summary>The most UTF-8 bytes of a failure's or goodbye's text.</summary>
    internal const int MaxTextLength = 1024;

    internal static void Write(Span<byte> destination, DuplexSocketKind kind, ulong correlationId)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Magic);
        destination[4] = Version;
        destination[5] = (byte)kind;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], correlationId);
    }

    /// <summary>
    /// Checks the envelope of a received message and returns its kind and correlation id.
    /// <paramref name="expectedPeer"/> names what should be at the other end ("a DuplexSocketServer"), for the message.
    /// </summary>
    /// <exception cref="MessageFormatException">The message is not a duplex stream message of this version.</exception>
    internal static (DuplexSocketKind Kind, ulong CorrelationId) Read(Message message, string expectedPeer)
    {
        ReadOnlySpan<byte> body = message.Body.Span;
        if (body.Length != Size || BinaryPrimitives.ReadUInt32BigEndian(body) != Magic)
        {
            throw new MessageFormatException(
                $"The peer sent a message that is not a ZeroLane duplex call (its body is {body.Length} bytes{(body.Length >= 4 ? $" starting 0x{BinaryPrimitives.ReadUInt32BigEndian(body):x8}" : "")}, " +
                $"not the 16-byte envelope starting 0x{Magic:x8} \"ZLDX\"; PROTOCOL.md section 15). The peer is not {expectedPeer}: " +
                "perhaps it speaks plain messages (MessageConnection) instead. Connect to the right endpoint.");
        }
        if (body[4] != Version)
        {
            throw new MessageFormatException(
                $"The peer speaks version {body[4]} of ZeroLane duplex calls over streams; this side speaks version {Version}. Use the same ZeroLane version on both ends.");
        }
        ushort reserved = BinaryPrimitives.ReadUInt16BigEndian(body[6..]);
        var kind = (DuplexSocketKind)body[5];
        if (reserved != 0 || kind is < DuplexSocketKind.Request or > DuplexSocketKind.Goodbye)
        {
            throw new MessageFormatException(
                $"The peer sent a duplex envelope of kind {body[5]} with reserved bits 0x{reserved:x4}, which version {Version} does not define: the stream is corrupt or the peer is incompatible.");
        }
        if (message.PartCount == 0)
        {
            throw new MessageFormatException("The peer sent a duplex envelope without part 0 (the carried body): the stream is corrupt or the peer is incompatible.");
        }
        ulong correlationId = BinaryPrimitives.ReadUInt64BigEndian(body[8..]);
        if ((correlationId == 0) != (kind == DuplexSocketKind.Goodbye))
        {
            throw new MessageFormatException(
                $"The peer sent a duplex {kind} with correlation id {correlationId}; id 0 belongs to a goodbye and only to it. The peer is incompatible.");
        }
        return (kind, correlationId);
    }

    /// <summary>The limits a stream of envelopes is received with, so that the carried message gets all of <paramref name="limits"/>.</summary>
    internal static MessageLimits WireLimits(MessageLimits limits) => new()
    {
        MaxMessageLength = Math.Min(int.MaxValue, limits.MaxMessageLength + WireOverhead),
        MaxParts = limits.MaxParts == int.MaxValue ? int.MaxValue : limits.MaxParts + 1,
    };

    /// <summary>Null if <paramref name="message"/> fits <paramref name="limits"/>; otherwise what is wrong, for a person.</summary>
    internal static string? CheckFits(Message message, MessageLimits limits, string what)
    {
        long encoded = MessageEncoding.TotalLength(message) - MessageEncoding.PrefixSize;
        if (encoded > limits.MaxMessageLength)
        {
            return $"The {what} encodes to {encoded} bytes (body, parts and their lengths), more than MessageLimits.MaxMessageLength ({limits.MaxMessageLength}). Nothing was sent; raise the limit on both ends or send less.";
        }
        if (message.PartCount > limits.MaxParts)
        {
            return $"The {what} has {message.PartCount} parts, more than MessageLimits.MaxParts ({limits.MaxParts}). Nothing was sent; raise the limit on both ends or send fewer parts.";
        }
        return null;
    }

    /// <summary>"ExceptionType: message" of <paramref name="error"/>, as UTF-8 of at most <see cref="MaxTextLength"/> bytes.</summary>
    internal static byte[] FailureText(Exception error) => Utf8(error.GetType().Name + ": " + error.Message);

    /// <summary><paramref name="text"/> as UTF-8, cut at a character boundary to at most <see cref="MaxTextLength"/> bytes.</summary>
    internal static byte[] Utf8(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        if (utf8.Length <= MaxTextLength)
        {
            return utf8;
        }
        int length = MaxTextLength;
        // Never cut a UTF-8 sequence in half: step back over continuation bytes.
        while (length > 0 && (utf8[length] & 0xC0) == 0x80)
        {
            length--;
        }
        return utf8.AsSpan(0, length).ToArray();
    }

    /// <summary>The text a failure or goodbye carries in part 0.</summary>
    internal static string TextOf(Message message) => Encoding.UTF8.GetString(message.GetPart(0).Span);
}
