namespace ZeroLane.Messages.Codecs;

/// <summary>
/// Raw bytes as a body plus any number of parts. Encoding references every segment (no copy); decoding returns
/// them in place (the list of part descriptors is a new small array, the bytes are the message's).
/// </summary>
public sealed class MultipartBytesCodec : IMessageCodec<Multipart<ReadOnlyMemory<byte>>>
{
    /// <summary>The codec (it has no state).</summary>
    public static MultipartBytesCodec Instance { get; } = new();

    /// <inheritdoc/>
    public void Encode(in Multipart<ReadOnlyMemory<byte>> value, MessageBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithBody(value.Body);
        foreach (ReadOnlyMemory<byte> part in value.Parts.Span)
        {
            builder.AddPart(part);
        }
    }

    /// <inheritdoc/>
    public Multipart<ReadOnlyMemory<byte>> Decode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new Multipart<ReadOnlyMemory<byte>>(message.Body, message.Parts.ToArray());
    }
}
