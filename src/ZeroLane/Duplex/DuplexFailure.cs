using System.Text;

namespace ZeroLane.Duplex;

/// <summary>
/// The response a <see cref="DuplexServer"/> sends, in the reference-compatible mode, for a request whose handler
/// failed (threw, returned nothing, or produced a response larger than the ring): <see cref="Prefix"/> followed by
/// UTF-8 text "ExceptionType: message". A reference client cannot tell it from an answer; it exists so that the
/// request is still answered exactly once, in order, and so that the answer is refused by the usual decoders
/// (protobuf, JSON, text) rather than taken for a real one. See PROTOCOL.md section 14.4.
/// </summary>
public static class DuplexFailure
{
    /// <summary>The most UTF-8 bytes of text after the prefix.</summary>
    public const int MaxTextLength = 1024;

    private static readonly byte[] s_prefix = "\0ZLERR\0"u8.ToArray();

    /// <summary>The seven bytes a failure response starts with: NUL, "ZLERR", NUL.</summary>
    public static ReadOnlySpan<byte> Prefix => s_prefix;

    /// <summary>True if <paramref name="response"/> is a failure response; <paramref name="message"/> is then its text.</summary>
    public static bool TryGetMessage(ReadOnlySpan<byte> response, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? message)
    {
        if (!response.StartsWith(Prefix))
        {
            message = null;
            return false;
        }
        message = Encoding.UTF8.GetString(response[Prefix.Length..]);
        return true;
    }

    /// <summary>The failure response for <paramref name="error"/>, at most <paramref name="maxLength"/> bytes.</summary>
    internal static byte[] Create(Exception error, int maxLength)
    {
        byte[] text = DuplexWire.FailureText(error, Math.Min(MaxTextLength, maxLength - s_prefix.Length));
        byte[] frame = new byte[Math.Min(maxLength, s_prefix.Length + text.Length)];
        s_prefix.AsSpan(0, Math.Min(s_prefix.Length, frame.Length)).CopyTo(frame);
        text.CopyTo(frame.AsSpan(Math.Min(s_prefix.Length, frame.Length)));
        return frame;
    }
}
