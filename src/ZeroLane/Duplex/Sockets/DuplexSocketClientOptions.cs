using ZeroLane.Messages;

namespace ZeroLane.Duplex;

/// <summary>How a <see cref="DuplexSocketClient"/> bounds what it sends and receives.</summary>
public sealed record DuplexSocketClientOptions
{
    /// <summary>
    /// Bounds of a request (checked before it is sent: a larger one is refused and nothing is sent) and of a response
    /// (checked before anything is allocated for it: a larger one ends the connection, see
    /// <see cref="DuplexSocketClient.RequestAsync"/>). They apply to the request or response message itself; the 16-byte
    /// envelope each travels in is allowed for on top. Default <see cref="MessageLimits.Default"/>.
    /// </summary>
    public MessageLimits Limits { get; init; } = MessageLimits.Default;

    internal void Validate() => ArgumentNullException.ThrowIfNull(Limits, nameof(Limits));
}
