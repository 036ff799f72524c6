using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using ZeroLane.Buffers;
using ZeroLane.Nats;

namespace ZeroLane.Cli.Commands;

/// <summary>Where a NATS bridge end meets its peers: the server URLs (tried in order) and the subject.</summary>
internal sealed record NatsTarget(string Urls, string Subject);

/// <summary>
/// <c>zerolane bridge send|receive NAME --nats URL SUBJECT</c>: the ring travels through NATS (<see cref="NatsRingBridge"/>)
/// instead of over one TCP connection. The sender publishes whether or not anyone listens; each receiver writes what
/// arrives into its local buffer and counts what it missed.
/// </summary>
internal static class BridgeOverNats
{
    private static readonly TimeSpan s_retryInterval = TimeSpan.FromMilliseconds(100);

    internal static Option<string[]> CreateNatsOption(string what) => new("--nats")
    {
        Description = $"Use NATS instead of TCP: the server URL (nats://HOST:PORT; several comma-separated, tried in order) and the subject to {what}.",
        Arity = new ArgumentArity(2, 2),
        AllowMultipleArgumentsPerToken = true,
        HelpName = "url subject",
    };

    /// <summary>The NATS target if <c>--nats</c> was given, null if the TCP option was; exactly one of them must be.</summary>
    internal static NatsTarget? Chosen(ParseResult parseResult, Option<string[]> nats, Option<string> tcp)
    {
        string[]? values = parseResult.GetValue(nats);
        bool tcpGiven = parseResult.GetValue(tcp) is not null;
        if (values is null || values.Length == 0)
        {
            CliErrors.Require(tcpGiven, $"give where the frames go: {tcp.Name} for TCP, or --nats URL SUBJECT for NATS.");
            return null;
        }
        CliErrors.Require(!tcpGiven, $"give either {tcp.Name} (TCP) or --nats URL SUBJECT (NATS), not both.");
        CliErrors.Require(values.Length == 2, "--nats takes two values: the server URL and the subject (e.g. --nats nats://10.0.0.5:4222 site1.camera).");
        string urls = values[0];
        foreach (string url in urls.Split(','))
        {
            CheckUrl(url);
        }
        try
        {
            NatsRingBridge.ValidateSubject(values[1]);
        }
        catch (ArgumentException e)
        {
            throw new CommandException(e.Message.Replace(" (Parameter 'subject')", "", StringComparison.Ordinal));
        }
        return new NatsTarget(urls, values[1]);
    }

    internal static async Task<int> SendAsync(string name, NatsTarget target, ReaderOptions options, string? lockDirectory, TimeSpan connectTimeout,
        CancellationToken cancellationToken)
    {
        if (lockDirectory is not null)
        {
            options = options with { LockDirectory = lockDirectory };
        }
        // A typing error is reported now, not after NATS is up.
        RingReader.Validate(name, options);
        bool interactive = !Console.IsErrorRedirected;
        await using NatsConnection connection = await ConnectAsync(target, "send", connectTimeout, interactive, cancellationToken);
        using var reader = new RingReader(name, options);
        await using NatsRingBridge bridge = await NatsRingBridge.StartSendingAsync(connection, target.Subject, reader, cancellationToken: cancellationToken);
        if (interactive)
        {
            Console.Error.Write($"Publishing buffer '{name}' to '{target.Subject}' on {connection.ServerInfo?.Host}:{connection.ServerInfo?.Port} " +
                "until its writer disconnects (frames published while no receiver listens are gone). Ctrl+C to stop.\n");
        }
        NatsRingBridgeStatistics result = await WaitAsync(bridge, sent: true, name, target, cancellationToken);
        Report(result, sent: true, name, target);
        return 0;
    }

    internal static async Task<int> ReceiveAsync(string name, NatsTarget target, WriterOptions options, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        // Validates the name (one-line error for a bad one) before connecting.
        BufferInspector.TryGetStats(name, out _);
        bool interactive = !Console.IsErrorRedirected;
        await using NatsConnection connection = await ConnectAsync(target, "receive", connectTimeout, interactive, cancellationToken);
        using RingWriter writer = ConnectWriter(name, options, connectTimeout, interactive, cancellationToken);
        await using NatsRingBridge bridge = await NatsRingBridge.StartReceivingAsync(connection, target.Subject, writer, cancellationToken: cancellationToken);
        if (interactive)
        {
            Console.Error.Write($"Writing what arrives on '{target.Subject}' into buffer '{name}' until the sender's writer disconnects. Ctrl+C to stop.\n");
        }
        NatsRingBridgeStatistics result = await WaitAsync(bridge, sent: false, name, target, cancellationToken);
        Report(result, sent: false, name, target);
        return 0;
    }

    /// <summary>Waits for the end of the stream; the counts are printed on Ctrl+C too.</summary>
    private static async Task<NatsRingBridgeStatistics> WaitAsync(NatsRingBridge bridge, bool sent, string name, NatsTarget target, CancellationToken cancellationToken)
    {
        try
        {
            return await bridge.Completion.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Report(bridge.Statistics, sent, name, target);
            throw;
        }
    }

    /// <summary>One line on standard error: what was carried and what was lost.</summary>
    private static void Report(NatsRingBridgeStatistics result, bool sent, string name, NatsTarget target)
    {
        string line = sent
            ? $"Published {result.Frames} frames, {result.Bytes} bytes of buffer '{name}' to '{target.Subject}'; {result.FramesLost} lost (could not be sent)"
            : $"Received {result.Frames} frames, {result.Bytes} bytes from '{target.Subject}' into buffer '{name}'; {result.FramesLost} lost " +
              $"({result.FramesWithoutRoom} for want of room), {result.MessagesRejected} messages rejected";
        line += result.MetadataCarried ? "; metadata carried." : "; no metadata.";
        if (result.LastError is { } error && (result.FramesLost > 0 || result.MessagesRejected > 0))
        {
            line += " Last problem: " + error;
        }
        Console.Error.Write(line + "\n");
    }

    /// <summary>Connects to the first server of the list that answers, trying the list again until the connect timeout.</summary>
    private static async Task<NatsConnection> ConnectAsync(NatsTarget target, string role, TimeSpan timeout, bool interactive, CancellationToken cancellationToken)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        bool told = false;
        var options = NatsOpts.Default with
        {
            Url = target.Urls,
            NoRandomize = true,
            Echo = false,
            Name = "zerolane bridge " + role,
            ConnectTimeout = TimeSpan.FromSeconds(Math.Clamp(timeout.TotalSeconds, 0.5, 5)),
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            MaxReconnectRetry = -1,
        };
        while (true)
        {
            var connection = new NatsConnection(options);
            try
            {
                await connection.ConnectAsync();
                return connection;
            }
            catch (NatsException exception)
            {
                await connection.DisposeAsync();
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    string seconds = timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                    CliErrors.Fail($"could not connect to NATS at {target.Urls} within {seconds} s ({exception.Message.TrimEnd('.')}); " +
                        "is nats-server running there, and is the URL right?");
                }
                if (interactive && !told)
                {
                    Console.Error.Write($"Waiting for a NATS server at {target.Urls}...\n");
                    told = true;
                }
                if (cancellationToken.WaitHandle.WaitOne(s_retryInterval))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Connects the local writer, waiting up to the connect timeout for a reader to create the buffer.</summary>
    private static RingWriter ConnectWriter(string name, WriterOptions options, TimeSpan timeout, bool interactive, CancellationToken cancellationToken)
    {
        if (RingWriter.TryConnect(name, out RingWriter? writer, TimeSpan.Zero, options, cancellationToken) == ConnectStatus.Success)
        {
            return writer!;
        }
        if (interactive)
        {
            Console.Error.Write($"Waiting for a reader to create buffer '{name}'...\n");
        }
        if (RingWriter.TryConnect(name, out writer, timeout, options, cancellationToken) == ConnectStatus.Success)
        {
            return writer!;
        }
        string seconds = timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        throw new CommandException($"buffer '{name}' did not appear within {seconds} s: start its reader on this host first (for example 'zerolane read {name}').");
    }

    /// <summary>nats://, tls://, ws:// or wss:// and a host (HOST:PORT alone means nats://HOST:PORT).</summary>
    private static void CheckUrl(string url)
    {
        string text = url.Trim();
        bool valid = text.Length > 0 &&
            Uri.TryCreate(text.Contains("://", StringComparison.Ordinal) ? text : "nats://" + text, UriKind.Absolute, out Uri? uri) &&
            uri.Scheme is "nats" or "tls" or "ws" or "wss" && uri.Host.Length > 0;
        CliErrors.Require(valid, $"'{url}' is not a NATS server URL: use nats://HOST:PORT (several comma-separated, tried in order).");
    }
}
