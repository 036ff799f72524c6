using ZeroLane.Buffers;

namespace ZeroLane.Duplex;

/// <summary>How a <see cref="DuplexServer"/> creates its request ring and writes its responses.</summary>
public sealed record DuplexServerOptions
{
    /// <summary>The request ring <c>NAME_request</c> the server creates: sizes, permissions, wait strategy.</summary>
    public ReaderOptions RequestRing { get; init; } = new();

    /// <summary>How the server writes into each client's response ring <c>NAME_response</c>.</summary>
    public WriterOptions ResponseWriter { get; init; } = new();

    /// <summary>
    /// How long the server waits, after a client's first request, for that client's response ring to be connectable
    /// (a client creates it before it sends anything, so this only matters for broken clients). Default 5 s.
    /// </summary>
    public TimeSpan ResponseConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long <see cref="DuplexServer.Dispose"/> lets the request in progress finish. Default 5 s.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The capacity of the loan a <see cref="DuplexLoanHandler"/> writes into, capped at the response ring's largest
    /// frame. Default 1 MiB. The loan waits until that many bytes are free in the response ring, so a client that holds
    /// many responses undisposed delays the next answer until it releases some.
    /// </summary>
    public int ResponseLoanLength { get; init; } = 1 << 20;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(RequestRing, nameof(RequestRing));
        ArgumentNullException.ThrowIfNull(ResponseWriter, nameof(ResponseWriter));
        if (ResponseConnectTimeout < TimeSpan.Zero && ResponseConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(ResponseConnectTimeout), ResponseConnectTimeout, "Must be zero or more, or infinite.");
        }
        if (StopTimeout < TimeSpan.Zero && StopTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(StopTimeout), StopTimeout, "Must be zero or more, or infinite.");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ResponseLoanLength, nameof(ResponseLoanLength));
    }
}
