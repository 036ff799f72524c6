using System.Security.Cryptography.X509Certificates;
using ZeroLane.Messages;

namespace ZeroLane.Duplex;

/// <summary>How a <see cref="DuplexSocketServer"/> accepts connections and runs its handler.</summary>
public sealed record DuplexSocketServerOptions
{
    /// <summary>
    /// How many requests of one connection are handled at the same time; their answers go out as they finish, so out of
    /// the order the requests came in. While that many are in progress the server reads no further request from that
    /// connection (the client's sends then wait for room in the socket). 1 handles one request at a time, in order.
    /// Default 16.
    /// </summary>
    public int MaxConcurrency { get; init; } = 16;

    /// <summary>
    /// Bounds of a request (checked before anything is allocated for it: a larger one ends the connection with a goodbye
    /// saying so, because the stream cannot be read past it) and of a response (a larger one fails that request only).
    /// The 16-byte envelope each travels in is allowed for on top. Default <see cref="MessageLimits.Default"/>.
    /// </summary>
    public MessageLimits Limits { get; init; } = MessageLimits.Default;

    /// <summary>
    /// How long <see cref="DuplexSocketServer.Dispose"/> and <see cref="DuplexSocketServer.DisposeAsync"/> let the requests in
    /// progress finish before their handlers' token is cancelled. Default 5 s.
    /// </summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With a listener: the certificate (with its private key) presented in a TLS handshake with every connection
    /// accepted; null (the default) accepts plain TCP or Unix connections. Handshakes run one at a time, in the accept loop; a
    /// client whose handshake takes more than 10 s is dropped.
    /// </summary>
    public X509Certificate2? TlsCertificate { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrency, nameof(MaxConcurrency));
        ArgumentNullException.ThrowIfNull(Limits, nameof(Limits));
        if (StopTimeout < TimeSpan.Zero && StopTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(StopTimeout), StopTimeout, "Must be zero or more, or infinite.");
        }
    }
}
