using ZeroLane.Buffers;

namespace ZeroLane.Duplex;

/// <summary>The two rings of duplex channel NAME, as the ZeroBuffer reference names them.</summary>
internal static class DuplexNames
{
    /// <summary>The ring the server creates and reads, the client writes: <c>NAME_request</c>.</summary>
    internal static string Request(string channel) => channel + "_request";

    /// <summary>The ring the client creates and reads, the server writes: <c>NAME_response</c>.</summary>
    internal static string Response(string channel) => channel + "_response";

    /// <summary>Checks that both ring names derived from <paramref name="channel"/> are valid buffer names.</summary>
    /// <exception cref="InvalidNameException">A derived name is not allowed.</exception>
    internal static void Validate(string channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        BufferNames.Validate(Request(channel));
        BufferNames.Validate(Response(channel));
    }
}
