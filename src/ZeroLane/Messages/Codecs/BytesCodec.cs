namespace ZeroLane.Messages.Codecs;

/// <summary>
/// Raw bytes as the whole body, no parts. Encoding references the bytes (no copy); decoding returns the body
/// in place.
/// </summary>
public sealed class BytesCodec : IMessageCodec<ReadOnlyMemory<byte>>
{
    /// <summary>The codec (it has no state).</summary>
    public static BytesCodec Instance { get; } = new();

    /// <inheritdoc/>
    public void Encode(in ReadOnlyMemory<byte> value, MessageBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithBody(value);
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> Decode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        CodecChecks.ExpectPartCount(message, 0, "raw bytes (BytesCodec)");
        return message.Body;
    }
}
