using ZeroLane.Buffers;

namespace ZeroLane.Duplex;

/// <summary>How a <see cref="DuplexClient"/> creates its response ring and writes its requests.</summary>
public sealed record DuplexClientOptions
{
    /// <summary>
    /// The response ring <c>NAME_response</c> the client creates: sizes, permissions, wait strategy, and the peer-check
    /// interval, which bounds how late a dead server is noticed.
    /// </summary>
    public ReaderOptions ResponseRing { get; init; } = new();

    /// <summary>How the client writes into the server's request ring <c>NAME_request</c>.</summary>
    public WriterOptions RequestWriter { get; init; } = new();

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(ResponseRing, nameof(ResponseRing));
        ArgumentNullException.ThrowIfNull(RequestWriter, nameof(RequestWriter));
    }
}
