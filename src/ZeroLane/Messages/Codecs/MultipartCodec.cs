namespace ZeroLane.Messages.Codecs;

/// <summary>
/// The codec of a type that implements <see cref="IMultipartMessage{TSelf}"/>: its body written by
/// <c>T.WriteBody</c> into a pooled buffer, its parts referenced as <c>T.GetPart</c> returns them.
/// </summary>
/// <typeparam name="T">The user type.</typeparam>
public sealed class MultipartCodec<T> : IMessageCodec<T>
    where T : IMultipartMessage<T>
{
    private const int InitialBodyCapacity = 256;

    /// <summary>The codec (it has no state).</summary>
    public static MultipartCodec<T> Instance { get; } = new();

    /// <inheritdoc/>
    public void Encode(in T value, MessageBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var body = new MessageBodyWriter(InitialBodyCapacity);
        try
        {
            T.WriteBody(in value, body);
        }
        catch
        {
            ((IDisposable)body).Dispose();
            throw;
        }
        builder.WithBody(body, body.WrittenCount);
        int partCount = T.PartCount;
        for (int i = 0; i < partCount; i++)
        {
            builder.AddPart(T.GetPart(in value, i));
        }
    }

    /// <inheritdoc/>
    public T Decode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        CodecChecks.ExpectPartCount(message, T.PartCount, "MultipartCodec", typeof(T));
        return T.Read(message.Body.Span, message.Parts);
    }
}
