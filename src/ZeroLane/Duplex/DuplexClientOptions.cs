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

    /// <summary>
    /// The mode the client offers (its response ring advertises it): <see cref="DuplexMode.Extended"/> (the default) is
    /// used when the server offers it too, the reference mode otherwise; <see cref="DuplexMode.Reference"/> always speaks
    /// the reference format.
    /// </summary>
    public DuplexMode Mode { get; init; } = DuplexMode.Extended;

    /// <summary>
    /// Whether a call made after the server went (stopped, or died) waits, within its own timeout, for a new server on the
    /// same channel and carries on with fresh rings. Default true. The calls pending when the server went still fail with
    /// <see cref="DuplexServerGoneException"/>: their answers are lost with the server.
    /// </summary>
    public bool Reconnect { get; init; } = true;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(ResponseRing, nameof(ResponseRing));
        ArgumentNullException.ThrowIfNull(RequestWriter, nameof(RequestWriter));
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Must be DuplexMode.Reference or DuplexMode.Extended.");
        }
    }
}
