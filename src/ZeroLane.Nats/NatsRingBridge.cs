using NATS.Client.Core;
using ZeroLane.Buffers;

namespace ZeroLane.Nats;

/// <summary>
/// Carries a ring (a ZeroBuffer buffer) between hosts through NATS, as <c>zerolane bridge --nats</c> does: the sending end
/// reads every frame of a local ring as its reader and publishes it, read in place, to one subject; each receiving end
/// writes what arrives on that subject, whole and in order, into a local ring as its writer. The metadata travels too.
/// The wire (PROTOCOL.md 16.6) is the gateway's (16.2): the same headers and chunking, with publisher ID 0.
/// </summary>
/// <remarks>
/// <para>Design: unlike the TCP bridge (<c>RingBridge</c>), nothing flows back from receivers to the sender but requests
/// for the metadata. Core NATS delivers at most once: the sender never waits for receivers (frames published while none
/// listens are gone), any number of receivers may listen, and a receiver counts the frames it did not get from the
/// sender's sequence numbers (<see cref="NatsRingBridgeStatistics.FramesLost"/>) instead of stopping. A receiver never
/// holds up NATS.Net's read loop longer than <see cref="NatsRingBridgeOptions.RingFullTimeout"/>: with its ring full that
/// long, it drops the frame, counted.</para>
/// <para>One sender per subject: receivers follow whichever sender's frame came last; frames of two senders at once
/// still arrive whole, but a chunked one of each tears the other.</para>
/// </remarks>
public sealed class NatsRingBridge : IAsyncDisposable, IDisposable
{
    private readonly NatsRingBridgeEnd _end;

    private NatsRingBridge(NatsRingBridgeEnd end, string subject)
    {
        _end = end;
        Subject = subject;
    }

    /// <summary>The subject the frames travel on.</summary>
    public string Subject { get; }

    /// <summary>Sending end: its ID, random per start (header <c>Zl-Gw</c>). Receiving end: 0.</summary>
    public ulong Id => _end.Id;

    /// <summary>
    /// Completes when the stream ends: at the sending end once the near writer disconnected and the end of the stream
    /// reached the server; at a receiving end once that end arrived (its writer may then be disposed). Faults with what
    /// stopped the bridge (<see cref="WriterGoneException"/> when the near writer died, <see cref="ReaderGoneException"/>
    /// when the far reader left, ...); <see cref="ObjectDisposedException"/> if disposed first.
    /// </summary>
    public Task<NatsRingBridgeStatistics> Completion => _end.Completion;

    /// <summary>What was carried so far.</summary>
    public NatsRingBridgeStatistics Statistics => _end.Statistics;

    /// <summary>
    /// Starts forwarding <paramref name="reader"/>'s frames and metadata to <paramref name="subject"/> over
    /// <paramref name="connection"/> (connected here if it is not yet), on a thread of its own, until the writer
    /// disconnects (see <see cref="Completion"/>) or this is disposed. Each frame is released once NATS.Net has copied it,
    /// which is what lets the near writer go on; while NATS.Net cannot send, the near ring fills and its writer waits.
    /// The caller keeps and disposes the reader and the connection, after this.
    /// </summary>
    /// <exception cref="ArgumentException">The subject is not one a ring can travel on (see <see cref="ValidateSubject"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NatsException">The connection could not be made.</exception>
    public static async Task<NatsRingBridge> StartSendingAsync(NatsConnection connection, string subject, RingReader reader,
        NatsRingBridgeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(reader);
        ValidateSubject(subject);
        options ??= new NatsRingBridgeOptions();
        options.Validate();
        await connection.ConnectAsync().ConfigureAwait(false);
        NatsRingSender sender = await NatsRingSender.StartAsync(connection, subject, reader, options, cancellationToken).ConfigureAwait(false);
        return new NatsRingBridge(sender, subject);
    }

    /// <summary>
    /// Starts writing what arrives on <paramref name="subject"/> into <paramref name="writer"/>'s ring: when this completes,
    /// the subscription has reached the server and the senders were asked for the metadata. Frames arrive whole and in the
    /// sender's order, or not at all (counted). The caller keeps the writer and disposes it after this (its reader then sees
    /// the writer disconnect), as it does the connection.
    /// </summary>
    /// <exception cref="ArgumentException">The subject is not one a ring can travel on (see <see cref="ValidateSubject"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="NatsException">The connection could not be made.</exception>
    public static async Task<NatsRingBridge> StartReceivingAsync(NatsConnection connection, string subject, RingWriter writer,
        NatsRingBridgeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(writer);
        ValidateSubject(subject);
        options ??= new NatsRingBridgeOptions();
        options.Validate();
        await connection.ConnectAsync().ConfigureAwait(false);
        NatsRingReceiver receiver = await NatsRingReceiver.StartAsync(connection, subject, writer, options, cancellationToken).ConfigureAwait(false);
        return new NatsRingBridge(receiver, subject);
    }

    /// <summary>
    /// Checks that a ring can travel on <paramref name="subject"/>: 1 to 200 characters of printable ASCII, tokens separated
    /// by '.', none empty, no wildcard ('*', '>'), not a subject the gateway (<c>zerolane.</c>) or NATS itself (<c>$</c>,
    /// <c>_INBOX.</c>) uses.
    /// </summary>
    /// <exception cref="ArgumentException">It cannot; the message says why.</exception>
    public static void ValidateSubject(string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        string? problem = null;
        if (subject.Length is 0 or > 200)
        {
            problem = "it must be 1 to 200 characters long";
        }
        else if (subject.Any(c => c is <= ' ' or > '~'))
        {
            problem = "it may contain only printable ASCII characters, without spaces";
        }
        else if (subject.Contains('*') || subject.Contains('>'))
        {
            problem = "a wildcard ('*' or '>') cannot be published to; give one subject";
        }
        else if (subject.StartsWith('.') || subject.EndsWith('.') || subject.Contains("..", StringComparison.Ordinal))
        {
            problem = "'.' separates tokens, and no token may be empty";
        }
        else if (subject.StartsWith(NatsSubjects.Prefix, StringComparison.Ordinal) || subject == NatsSubjects.Prefix[..^1])
        {
            problem = $"subjects under '{NatsSubjects.Prefix}' carry topics (the gateway's)";
        }
        else if (subject.StartsWith('$') || subject.StartsWith("_INBOX.", StringComparison.Ordinal))
        {
            problem = "subjects starting with '$' or '_INBOX.' belong to NATS itself";
        }
        else if (subject.EndsWith("." + MetadataRequestToken, StringComparison.Ordinal))
        {
            problem = $"a last token '{MetadataRequestToken}' is where receivers ask for a ring's metadata";
        }
        if (problem is not null)
        {
            throw new ArgumentException($"'{subject}' cannot carry a ring: {problem} (e.g. 'site1.camera-front').", nameof(subject));
        }
    }

    /// <summary>The last token of the subject receivers ask for the metadata on: SUBJECT._zlmeta.</summary>
    internal const string MetadataRequestToken = "_zlmeta";

    internal static string MetadataRequestSubject(string subject) => subject + "." + MetadataRequestToken;

    /// <summary>
    /// Stops: the sending end stops reading (without telling receivers the stream ended: they wait for a sender); a
    /// receiving end unsubscribes and gives back a half-written frame's loan. The reader or writer and the connection stay
    /// the caller's.
    /// </summary>
    public ValueTask DisposeAsync() => _end.DisposeAsync();

    /// <summary>Same as <see cref="DisposeAsync"/>, waiting for it.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>One end of a <see cref="NatsRingBridge"/>.</summary>
internal abstract class NatsRingBridgeEnd : IAsyncDisposable
{
    private protected readonly TaskCompletionSource<NatsRingBridgeStatistics> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal virtual ulong Id => 0;

    internal Task<NatsRingBridgeStatistics> Completion => _completion.Task;

    internal abstract NatsRingBridgeStatistics Statistics { get; }

    public abstract ValueTask DisposeAsync();

    /// <summary>Nanoseconds since 1970 UTC, without allocating.</summary>
    internal static long Now() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>A fresh header set with the version, the sender ID and <paramref name="kind"/>, for a control message (rare: allocates).</summary>
    internal static NatsHeaders ControlHeaders(ulong sender, string kind, ulong sequence, long length)
    {
        var headers = new NatsHeaders(caseSensitive: true)
        {
            [NatsWire.Version] = NatsWire.VersionValue,
            [NatsWire.Gateway] = Hex(sender),
            [NatsWire.Publisher] = Hex(0),
            [NatsWire.Sequence] = Hex(sequence),
            [NatsWire.Timestamp] = Hex((ulong)Now()),
            [NatsWire.Length] = Hex((ulong)length),
            [NatsWire.Kind] = kind,
        };
        return headers;
    }

    private static string Hex(ulong value)
    {
        string field = NatsWire.NewHexField(16);
        NatsWire.WriteHex(field, value);
        return field;
    }
}
