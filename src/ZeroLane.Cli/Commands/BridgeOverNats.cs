using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using ZeroLane.Buffers;
using ZeroLane.Nats;

namespace ZeroLane.Cli.Commands;

/// <summary>Where a NATS bridge end meets its peers: the servers (tried in order, with the credentials and TLS files given) and the subject.</summary>
internal sealed record NatsTarget(NatsEndpoint Endpoint, string Subject)
{
    internal string Urls => string.Join(",", Endpoint.Urls);
}

/// <summary>
/// <c>zerolane bridge send|receive NAME --nats URL SUBJECT</c>: the ring travels through NATS (<see cref="NatsRingBridge"/>)
/// instead of over one TCP connection. The sender publishes whether or not anyone listens; each receiver writes what
/// arrives into its local buffer and counts what it missed. The connection options other than <c>--nats</c> (client name,
/// credentials, TLS files) are the gateway's (<see cref="NatsCliOptions"/>).
/// </summary>
internal static class BridgeOverNats
{
    /// <summary><c>--nats URL[,URL...] SUBJECT</c>, and the gateway's other connection options, on <paramref name="command"/>.</summary>
    internal static (Option<string[]> Nats, NatsCliOptions Connection) AddOptions(Command command, string what)
    {
        var nats = new Option<string[]>("--nats")
        {
            Description = "Use NATS instead of TCP: the servers (URL[,URL...], each nats://HOST:PORT or tls://HOST:PORT, tried in this order) " +
                $"and the subject to {what}.",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
            HelpName = "url[,url...] subject",
        };
        command.Options.Add(nats);
        NatsCliOptions connection = NatsCliOptions.Create(natsRequired: false, defaultName: "zerolane-bridge");
        foreach (Option option in connection.All)
        {
            if (option != connection.Nats)
            {
                command.Options.Add(option);
            }
        }
        return (nats, connection);
    }

    /// <summary>The NATS target if <c>--nats</c> was given, null if the TCP option was; exactly one of them must be.</summary>
    internal static NatsTarget? Chosen(ParseResult parseResult, (Option<string[]> Nats, NatsCliOptions Connection) natsOptions, Option<string> tcp,
        TimeSpan connectTimeout)
    {
        Option<string[]> nats = natsOptions.Nats;
        NatsCliOptions options = natsOptions.Connection;
        string[]? values = parseResult.GetValue(nats);
        bool tcpGiven = parseResult.GetValue(tcp) is not null;
        if (values is null || values.Length == 0)
        {
            CliErrors.Require(tcpGiven, $"give where the frames go: {tcp.Name} for TCP, or --nats URL SUBJECT for NATS.");
            // Credentials and TLS files given for a TCP bridge would be ignored without a word: say so instead.
            Option? natsOnly = options.All.FirstOrDefault(option => option != options.Nats && parseResult.GetResult(option) is { Implicit: false });
            CliErrors.Require(natsOnly is null, $"{natsOnly?.Name} applies to --nats only; a bridge over TCP ({tcp.Name}) does not use it: drop it, or use --nats URL SUBJECT.");
            return null;
        }
        CliErrors.Require(!tcpGiven, $"give either {tcp.Name} (TCP) or --nats URL SUBJECT (NATS), not both.");
        CliErrors.Require(values.Length == 2, "--nats takes two values: the server URL and the subject (e.g. --nats nats://10.0.0.5:4222 site1.camera).");
        try
        {
            NatsEndpoint endpoint = NatsEndpoint.Parse(values[0]) with
            {
                Name = parseResult.GetValue(options.Name) ?? "zerolane-bridge",
                User = parseResult.GetValue(options.User),
                Password = parseResult.GetValue(options.Password),
                Token = parseResult.GetValue(options.Token),
                NKeySeedFile = parseResult.GetValue(options.NKey),
                CredsFile = parseResult.GetValue(options.Creds),
                TlsCaFile = parseResult.GetValue(options.TlsCa),
                TlsCertFile = parseResult.GetValue(options.TlsCert),
                TlsKeyFile = parseResult.GetValue(options.TlsKey),
                // The first connect is tried until then; the tool's minimum keeps one attempt possible.
                ConnectTimeout = connectTimeout > TimeSpan.Zero ? connectTimeout : TimeSpan.FromMilliseconds(1),
            };
            endpoint.Validate();
            NatsRingBridge.ValidateSubject(values[1]);
            return new NatsTarget(endpoint, values[1]);
        }
        catch (ArgumentException e)
        {
            throw new CommandException(e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal));
        }
    }

    internal static async Task<int> SendAsync(string name, NatsTarget target, ReaderOptions options, string? lockDirectory, CancellationToken cancellationToken)
    {
        if (lockDirectory is not null)
        {
            options = options with { LockDirectory = lockDirectory };
        }
        // A typing error is reported now, not after NATS is up.
        RingReader.Validate(name, options);
        bool interactive = !Console.IsErrorRedirected;
        await using NatsConnection connection = await ConnectAsync(target, interactive, cancellationToken);
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
        await using NatsConnection connection = await ConnectAsync(target, interactive, cancellationToken);
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

    /// <summary>Connects to the first server of the list that answers, trying the list again until the connect timeout (<see cref="NatsConnector"/>).</summary>
    private static Task<NatsConnection> ConnectAsync(NatsTarget target, bool interactive, CancellationToken cancellationToken)
    {
        if (interactive)
        {
            Console.Error.Write($"Connecting to NATS at {target.Urls}...\n");
        }
        return NatsConnector.ConnectAsync(target.Endpoint, log: null, cancellationToken);
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
}
