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

    /// <summary>
    /// How long <see cref="DuplexServer.Dispose"/> lets the requests in progress finish before it cancels the asynchronous
    /// handlers' token and stops waiting. Default 5 s.
    /// </summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The capacity of the loan a <see cref="DuplexLoanHandler"/> writes into, capped at the response ring's largest
    /// frame. Default 1 MiB. The loan waits until that many bytes are free in the response ring, so a client that holds
    /// many responses undisposed delays the next answer until it releases some.
    /// </summary>
    public int ResponseLoanLength { get; init; } = 1 << 20;

    /// <summary>
    /// The mode the server offers (its request ring advertises it): <see cref="DuplexMode.Extended"/> (the default) is used
    /// with every client that offers it too, the reference mode with the others; <see cref="DuplexMode.Reference"/> speaks
    /// the reference format with every client.
    /// </summary>
    public DuplexMode Mode { get; init; } = DuplexMode.Extended;

    /// <summary>
    /// How many requests the handler processes at once, 1 (the default: on the server's own thread, no hand-over) to
    /// <see cref="MaxMaxConcurrency"/>. Above 1, requests run on the thread pool; in the extended mode each is answered as
    /// soon as it is done (out of order), in the reference mode answers are still written in request order.
    /// </summary>
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>The largest <see cref="MaxConcurrency"/>.</summary>
    public const int MaxMaxConcurrency = 1024;

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
        if (MaxConcurrency is < 1 or > MaxMaxConcurrency)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, $"Must be 1 to {MaxMaxConcurrency}.");
        }
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Must be DuplexMode.Reference or DuplexMode.Extended.");
        }
    }
}
