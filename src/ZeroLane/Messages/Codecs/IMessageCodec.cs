namespace ZeroLane.Messages.Codecs;

/// <summary>
/// Turns a value of <typeparamref name="T"/> into a message's body and parts, and back.
/// </summary>
/// <remarks>
/// Design: encoding writes into a <see cref="MessageBuilder"/> rather than returning a message, so a codec can
/// hand large fields to <see cref="MessageBuilder.AddPart(ReadOnlyMemory{byte})"/> as they are (no copy) and
/// give the builder the owner of any buffer it rents for the body (released with the message), and so several
/// codecs can contribute to one message. Decoding returns a value whose large fields are slices of the
/// message's memory: it borrows from the message and is valid only until the message is disposed.
/// Implementations are stateless and thread-safe unless they say otherwise.
/// </remarks>
/// <typeparam name="T">The user type.</typeparam>
public interface IMessageCodec<T>
{
    /// <summary>
    /// Sets the body of <paramref name="builder"/> and adds the parts of <paramref name="value"/>. Memory taken
    /// from <paramref name="value"/> is referenced, not copied: it must not change until the message was sent.
    /// </summary>
    /// <exception cref="ArgumentException">The value cannot be encoded (the message says why).</exception>
    void Encode(in T value, MessageBuilder builder);

    /// <summary>
    /// Reads a value from <paramref name="message"/>. Large fields of the result are slices of the message's
    /// memory, valid until the message is disposed.
    /// </summary>
    /// <exception cref="MessageCodecException">The message does not hold a valid <typeparamref name="T"/>.</exception>
    /// <exception cref="ObjectDisposedException">The message was disposed.</exception>
    T Decode(Message message);
}
