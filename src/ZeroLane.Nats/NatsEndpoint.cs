using System.Globalization;
using NATS.Client.Core;
using NATS.NKeys;

namespace ZeroLane.Nats;

/// <summary>
/// Where and how a gateway connects to NATS: the servers of one cluster (tried in the order given), the client name shown in
/// NATS monitoring, at most one kind of credentials, TLS files, and the timing of the first connect and of reconnects.
/// Options record: every property has a sensible default, change them with <c>init</c> or <c>with</c>.
/// </summary>
/// <remarks>
/// Connecting (<c>NatsGateway</c>): the first connect tries every URL in order; while none can be reached it tries again
/// with back-off (<see cref="ReconnectWaitMin"/>, doubling up to <see cref="ReconnectWaitMax"/>) until
/// <see cref="ConnectTimeout"/> has passed in all, then fails with <see cref="NatsGatewayConnectException"/> (the first
/// attempt always runs to its end, each step bounded by <see cref="ConnectTimeout"/>, so the error can say what the servers
/// answered; later attempts are cut at the deadline). Refused
/// credentials, a failed TLS handshake and unreadable credential files fail at once: trying again would not help. Once
/// connected, a lost connection is re-established by NATS.Net across the URLs (and the servers the cluster announces), with
/// the same back-off, <see cref="MaxReconnectRetry"/> times (forever by default).
/// </remarks>
public sealed record NatsEndpoint
{
    /// <summary>The port NATS servers listen on when a URL names none.</summary>
    public const int DefaultPort = 4222;

    /// <summary>
    /// The servers, each <c>nats://HOST:PORT</c> or <c>tls://HOST:PORT</c> (TLS required), tried in this order (never
    /// shuffled) on the first connect and on every reconnect. Default <c>nats://127.0.0.1:4222</c>. See <see cref="Parse"/>.
    /// </summary>
    public IReadOnlyList<string> Urls { get; init; } = ["nats://127.0.0.1:4222"];

    /// <summary>The client name NATS monitoring shows for this connection (<c>/connz</c>'s <c>name</c>). Default <c>zerolane-gateway</c>.</summary>
    public string Name { get; init; } = "zerolane-gateway";

    /// <summary>User name, with <see cref="Password"/>; null (the default) for none.</summary>
    public string? User { get; init; }

    /// <summary>Password of <see cref="User"/>.</summary>
    public string? Password { get; init; }

    /// <summary>Authentication token; null (the default) for none.</summary>
    public string? Token { get; init; }

    /// <summary>
    /// A file holding a user NKey seed (a line starting <c>SU</c>, as <c>nk -gen user</c> writes it); the public key is derived
    /// from it and the server's nonce signed with it. Null (the default) for none. Keep the file owner-only (0600).
    /// </summary>
    public string? NKeySeedFile { get; init; }

    /// <summary>
    /// A <c>.creds</c> file (user JWT and NKey seed, as <c>nsc</c> writes it) for servers run in operator mode. Null (the
    /// default) for none. Keep the file owner-only (0600).
    /// </summary>
    public string? CredsFile { get; init; }

    /// <summary>PEM file of the certificate authorities that signed the servers' certificates; null (the default) trusts the system's.</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>PEM client certificate, for servers that verify clients (<c>tls { verify: true }</c>), with <see cref="TlsKeyFile"/>.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>
    /// Accept any server certificate without verifying it. For tests only: it lets anyone between the gateway and the server
    /// read and change everything. Default false.
    /// </summary>
    public bool TlsInsecure { get; init; }

    /// <summary>
    /// How long the first connect keeps trying (every URL, again and again with back-off) before it fails; also the limit of
    /// one connection attempt (TCP, TLS handshake, server greeting) during reconnects. Default 5 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first wait between connection attempts; each failure doubles it up to <see cref="ReconnectWaitMax"/>. Default 100 ms.</summary>
    public TimeSpan ReconnectWaitMin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between connection attempts. Default 5 s.</summary>
    public TimeSpan ReconnectWaitMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times to try reconnecting after a lost connection before giving up; -1 (the default) for forever.</summary>
    public int MaxReconnectRetry { get; init; } = -1;

    /// <summary>
    /// Parses <c>URL[,URL...]</c> (the <c>--nats</c> syntax) into an endpoint with these <see cref="Urls"/> and every other
    /// property at its default. A URL without a port gets <see cref="DefaultPort"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A URL is empty, not <c>nats://</c> or <c>tls://</c>, has no host, a bad port, a
    /// path, or credentials in it; the message names it and says what to write.</exception>
    public static NatsEndpoint Parse(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        string[] parts = urls.Split(',', StringSplitOptions.TrimEntries);
        var parsed = new List<string>(parts.Length);
        foreach (string part in parts)
        {
            parsed.Add(NormalizeUrl(part, urls));
        }
        return new NatsEndpoint { Urls = parsed };
    }

    /// <summary>Checks the URLs, credentials, TLS files and timings together.</summary>
    /// <exception cref="ArgumentException">Something is missing, out of range or combined with what it excludes; the message says what.</exception>
    public void Validate()
    {
        if (Urls is null || Urls.Count == 0)
        {
            throw new ArgumentException("No NATS server URL: give at least one, e.g. --nats nats://127.0.0.1:4222.", nameof(Urls));
        }
        foreach (string url in Urls)
        {
            NormalizeUrl(url, string.Join(",", Urls));
        }
        if (string.IsNullOrWhiteSpace(Name) || Name.Any(char.IsControl))
        {
            throw new ArgumentException("The NATS client name is empty or has control characters: give a printable name, e.g. --name gateway-a.", nameof(Name));
        }
        List<string> kinds = [];
        if (User is not null || Password is not null)
        {
            kinds.Add("--user/--password");
            if (string.IsNullOrEmpty(User) || Password is null)
            {
                throw new ArgumentException("A NATS user needs both a name and a password: give --user and --password together.", nameof(User));
            }
        }
        if (Token is not null)
        {
            kinds.Add("--token");
        }
        if (NKeySeedFile is not null)
        {
            kinds.Add("--nkey");
        }
        if (CredsFile is not null)
        {
            kinds.Add("--creds");
        }
        if (kinds.Count > 1)
        {
            throw new ArgumentException(
                $"NATS credentials of several kinds were given ({string.Join(", ", kinds)}): a connection authenticates one way, give only one.",
                nameof(Token));
        }
        if ((TlsCertFile is null) != (TlsKeyFile is null))
        {
            throw new ArgumentException("A TLS client certificate needs its key: give --tls-cert and --tls-key together.", nameof(TlsCertFile));
        }
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "The NATS connect timeout must be positive.");
        }
        if (ReconnectWaitMin < TimeSpan.Zero || ReconnectWaitMax < ReconnectWaitMin)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectWaitMax), ReconnectWaitMax,
                "The NATS reconnect waits must satisfy 0 <= ReconnectWaitMin <= ReconnectWaitMax.");
        }
        if (MaxReconnectRetry < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReconnectRetry), MaxReconnectRetry, "MaxReconnectRetry is -1 (forever) or a count of retries.");
        }
    }

    /// <summary>The NATS.Net options of this endpoint (validated first).</summary>
    internal NatsOpts ToNatsOpts()
    {
        Validate();
        var auth = new NatsAuthOpts
        {
            Username = User,
            Password = Password,
            Token = Token,
            CredsFile = CredsFile,
            // NATS.Net's own NKeyFile wants the public key in the file as well; a seed alone is enough, so it is read here,
            // on every (re)connect, and the public key derived from it.
            AuthCredCallback = NKeySeedFile is { } seedFile
                ? (_, cancellationToken) => ReadNKeySeedAsync(seedFile, cancellationToken)
                : null,
        };
        var tls = new NatsTlsOpts
        {
            CaFile = TlsCaFile,
            CertFile = TlsCertFile,
            KeyFile = TlsKeyFile,
            InsecureSkipVerify = TlsInsecure,
        };
        return new NatsOpts
        {
            Url = string.Join(",", Urls),
            Name = Name,
            // A gateway must never receive its own publications: what it publishes to NATS came from local topics, and
            // getting it back would loop it into those topics again.
            Echo = false,
            NoRandomize = true,
            AuthOpts = auth,
            TlsOpts = tls,
            ConnectTimeout = ConnectTimeout,
            ReconnectWaitMin = ReconnectWaitMin,
            ReconnectWaitMax = ReconnectWaitMax,
            MaxReconnectRetry = MaxReconnectRetry,
            // NatsConnector retries the first connect itself, so it can tell refused credentials from an unreachable server.
            RetryOnInitialConnect = false,
        };
    }

    /// <summary>The credentials of an NKey seed file: its seed as the secret (NATS.Net derives the public key and signs with it).</summary>
    internal static async ValueTask<NatsAuthCred> ReadNKeySeedAsync(string path, CancellationToken cancellationToken)
    {
        string text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return NatsAuthCred.FromNkey(ParseNKeySeed(text, path));
    }

    /// <summary>The user seed in <paramref name="text"/> (the first line starting <c>SU</c>), checked by deriving its public key.</summary>
    /// <exception cref="FormatException">No valid user seed in the text.</exception>
    internal static string ParseNKeySeed(string text, string path)
    {
        foreach (string line in text.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("SU", StringComparison.Ordinal))
            {
                try
                {
                    using KeyPair pair = KeyPair.FromSeed(line.AsSpan());
                    _ = pair.GetPublicKey();
                }
                catch (Exception e) when (e is NKeysException or ArgumentException or FormatException or IndexOutOfRangeException)
                {
                    throw new FormatException($"NKey seed file '{path}' has a line starting 'SU' that is not a valid user seed ({e.Message}): write the seed that 'nk -gen user' printed.", e);
                }
                return line;
            }
        }
        throw new FormatException($"NKey seed file '{path}' holds no user seed (a line starting 'SU'): give the file 'nk -gen user' wrote, not the public key.");
    }

    private static string NormalizeUrl(string url, string all)
    {
        string Bad(string what) => $"NATS URL '{url}' in '{all}' {what}; write nats://HOST:PORT or tls://HOST:PORT, several separated by commas.";

        if (string.IsNullOrWhiteSpace(url))
        {
            throw new ArgumentException(Bad("is empty (a stray comma?)"), nameof(url));
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || !url.Contains("://", StringComparison.Ordinal))
        {
            throw new ArgumentException(Bad("is not a URL (or its port is not 1 to 65535)"), nameof(url));
        }
        string scheme = uri.Scheme.ToLowerInvariant();
        if (scheme is not ("nats" or "tls"))
        {
            throw new ArgumentException(Bad($"has scheme '{uri.Scheme}', not nats or tls"), nameof(url));
        }
        if (uri.Host.Length == 0)
        {
            throw new ArgumentException(Bad("has no host"), nameof(url));
        }
        if (uri.UserInfo.Length > 0)
        {
            throw new ArgumentException(
                $"NATS URL '{uri.Scheme}://...@{uri.Authority}' has credentials in it: give them with --user/--password or --token instead, where they do not show in logs.",
                nameof(url));
        }
        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new ArgumentException(Bad("has a path, query or fragment"), nameof(url));
        }
        // Uri takes a missing port as -1 and rejects ports above 65535; port 0 cannot be connected to.
        int port = uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port;
        if (port == 0)
        {
            throw new ArgumentException(Bad("has port 0"), nameof(url));
        }
        return string.Create(CultureInfo.InvariantCulture, $"{scheme}://{uri.Host}:{port}");
    }
}
