using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ZeroLane.Messages.Codecs;

/// <summary>
/// An unmanaged struct as the body, byte for byte in the sender's memory layout, no parts.
/// </summary>
/// <remarks>
/// The body is exactly <c>sizeof(T)</c> bytes as <see cref="MemoryMarshal.Write{T}(Span{byte}, in T)"/> lays
/// them out: host byte order, the struct's own field offsets and padding. Both ends must therefore share the
/// struct definition and the byte order (every platform .NET 10 runs on Linux is little-endian). Padding bytes
/// are copied as they are in the value. For portable layouts use explicit big-endian fields or Protobuf.
/// </remarks>
/// <typeparam name="T">The struct; it must not contain references.</typeparam>
public sealed class UnmanagedCodec<T> : IMessageCodec<T>
    where T : unmanaged
{
    /// <summary>The codec (it has no state).</summary>
    public static UnmanagedCodec<T> Instance { get; } = new();

    /// <summary>Bytes of the body: <c>sizeof(T)</c>.</summary>
    public static int BodySize => Unsafe.SizeOf<T>();

    /// <inheritdoc/>
    public void Encode(in T value, MessageBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var body = new MessageBodyWriter(BodySize);
        MemoryMarshal.Write(body.GetWritableSpan(BodySize), in value);
        body.Advance(BodySize);
        builder.WithBody(body, BodySize);
    }

    /// <inheritdoc/>
    public T Decode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        CodecChecks.ExpectPartCount(message, 0, "UnmanagedCodec", typeof(T));
        ReadOnlySpan<byte> body = message.Body.Span;
        if (body.Length != BodySize)
        {
            ThrowWrongSize(body.Length);
        }
        return MemoryMarshal.Read<T>(body);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongSize(int actual) =>
        throw new MessageCodecException($"A {typeof(T).Name} takes {BodySize} bytes but the message body has {actual}: the sender used another codec or another definition of the struct.");
}
