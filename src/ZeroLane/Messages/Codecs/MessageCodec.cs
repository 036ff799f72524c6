namespace ZeroLane.Messages.Codecs;

/// <summary>Conveniences over <see cref="IMessageCodec{T}"/>.</summary>
public static class MessageCodec
{
    /// <summary>Encodes <paramref name="value"/> into a new message (see <see cref="IMessageCodec{T}.Encode"/> for ownership).</summary>
    public static Message ToMessage<T>(this IMessageCodec<T> codec, in T value)
    {
        ArgumentNullException.ThrowIfNull(codec);
        MessageBuilder builder = Message.CreateBuilder();
        codec.Encode(in value, builder);
        return builder.Build();
    }
}
