using System.Text;

namespace ZeroLane.Messages.Codecs;

/// <summary>
/// A string as its UTF-8 bytes in the body (no byte-order mark, no terminator, no length: the body length is
/// the string's length in bytes), no parts.
/// </summary>
/// <remarks>
/// Both directions are strict: a string holding a lone surrogate cannot be encoded (<see cref="ArgumentException"/>)
/// and a body that is not valid UTF-8 cannot be decoded (<see cref="MessageCodecException"/>), so nothing is
/// silently replaced with U+FFFD. Decoding allocates the string; read <see cref="Message.Body"/> directly to
/// avoid that.
/// </remarks>
public sealed class Utf8StringCodec : IMessageCodec<string>
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The codec (it has no state).</summary>
    public static Utf8StringCodec Instance { get; } = new();

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public void Encode(in string value, MessageBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(builder);
        int length;
        try
        {
            length = s_strictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException exception)
        {
            throw new ArgumentException("The string holds a lone surrogate (invalid UTF-16), which has no UTF-8 form.", nameof(value), exception);
        }
        var body = new MessageBodyWriter(length);
        int written = s_strictUtf8.GetBytes(value, body.GetWritableSpan(length));
        body.Advance(written);
        builder.WithBody(body, written);
    }

    /// <inheritdoc/>
    public string Decode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        CodecChecks.ExpectPartCount(message, 0, "a UTF-8 string (Utf8StringCodec)");
        try
        {
            return s_strictUtf8.GetString(message.Body.Span);
        }
        catch (DecoderFallbackException exception)
        {
            throw new MessageCodecException($"The message body is not valid UTF-8 (at byte {exception.Index}).", exception);
        }
    }
}
