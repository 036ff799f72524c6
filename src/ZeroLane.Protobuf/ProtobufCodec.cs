using Google.Protobuf;
using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Protobuf;

/// <summary>
/// A Google.Protobuf message as the body (its standard binary encoding, nothing around it) with raw parts
/// alongside, so large binary data travels beside the Protobuf message instead of inside a <c>bytes</c> field
/// (which Protobuf would copy on both ends).
/// </summary>
/// <remarks>
/// Encoding serializes the Protobuf message with Protobuf's <c>WriteContext</c> (the writer behind
/// <see cref="CodedOutputStream"/>) straight into a pooled body buffer of exactly <c>CalculateSize()</c> bytes,
/// which the built message returns to the pool; the parts are referenced as they are. Decoding parses the body with the
/// <see cref="MessageParser{T}"/> given to the constructor (Protobuf copies what it parses); the parts are
/// returned in place.
/// </remarks>
/// <typeparam name="T">
/// The generated Protobuf message type. <see cref="IBufferMessage"/> (code from protoc 3.11 or later) lets it be
/// written into and parsed from spans without a stream object.
/// </typeparam>
public sealed class ProtobufCodec<T> : IMessageCodec<Multipart<T>>
    where T : IMessage<T>, IBufferMessage
{
    private readonly MessageParser<T> _parser;

    /// <summary>A codec that parses bodies with <paramref name="parser"/> (the generated <c>T.Parser</c>).</summary>
    public ProtobufCodec(MessageParser<T> parser)
    {
        ArgumentNullException.ThrowIfNull(parser);
        _parser = parser;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The Protobuf message is null.</exception>
    public void Encode(in Multipart<T> value, MessageBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        T protobuf = value.Body ?? throw new ArgumentException("The Protobuf message is null.", nameof(value));
        int size = protobuf.CalculateSize();
        var body = new MessageBodyWriter(size);
        try
        {
            // MessageExtensions.WriteTo(Span) drives the same WriteContext as CodedOutputStream, without allocating
            // the stream object, and checks that the span was filled exactly.
            protobuf.WriteTo(body.GetWritableSpan(size));
            body.Advance(size);
        }
        catch
        {
            ((IDisposable)body).Dispose();
            throw;
        }
        builder.WithBody(body, size);
        foreach (ReadOnlyMemory<byte> part in value.Parts.Span)
        {
            builder.AddPart(part);
        }
    }

    /// <inheritdoc/>
    public Multipart<T> Decode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        T protobuf;
        try
        {
            protobuf = _parser.ParseFrom(message.Body.Span);
        }
        catch (InvalidProtocolBufferException exception)
        {
            throw new MessageCodecException($"The message body is not a valid {typeof(T).Name}: {exception.Message}", exception);
        }
        return new Multipart<T>(protobuf, message.Parts.ToArray());
    }
}
