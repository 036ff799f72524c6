using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ZeroLane.Buffers;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane bridge send|receive</c>: carries a buffer's frames and metadata across hosts over TCP (<c>--to</c> /
/// <c>--listen</c>) or through NATS (<c>--nats URL SUBJECT</c>, <see cref="BridgeOverNats"/>), so a reader on host B
/// receives what a writer on host A wrote. The library's <see cref="RingBridge"/> does the carrying over TCP (and
/// documents the back-pressure); this command sets up the buffer, the connection and the waiting.
/// </summary>
internal static class BridgeCommand
{
    private static readonly TimeSpan s_retryInterval = TimeSpan.FromMilliseconds(100);

    private sealed record SendSettings(
        string Name, string Host, int Port, long PayloadSize, long MetadataSize, WaitStrategy Wait, string? LockDirectory, TimeSpan ConnectTimeout);

    private sealed record ReceiveSettings(string Name, IPEndPoint Listen, WaitStrategy Wait, TimeSpan ConnectTimeout);

    internal static Command Create() => new("bridge", "Carry a buffer's frames and metadata to another host over TCP, or through NATS to any number of hosts.")
    {
        CreateSend(),
        CreateReceive(),
    };

    private static Command CreateSend()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        var to = new Option<string>("--to") { Description = "The receiving end: HOST:PORT (TCP; or --nats).", HelpName = "host:port" };
        Option<long> payloadSize = CommonOptions.CreateSizeOption("--payload-size", "Size of the payload block.", 64L << 20);
        Option<long> metadataSize = CommonOptions.CreateSizeOption("--metadata-size", "Size of the metadata block (0 for none).", 4096);
        Option<string> wait = CommonOptions.CreateWaitOption();
        Option<string?> lockDirectory = CommonOptions.CreateLockDirectoryOption();
        Option<double> connectTimeout = CommonOptions.CreateConnectTimeoutOption("connect to the receiving end (or to a NATS server)", 30);
        var command = new Command("send", "Create a buffer as its reader and forward its metadata and every frame to a 'bridge receive' over TCP " +
            "(--to), or publish them to a NATS subject (--nats); exits when the writer disconnects and everything was delivered (TCP) or published (NATS).")
        {
            name, to, payloadSize, metadataSize, wait, lockDirectory, connectTimeout,
        };
        var nats = BridgeOverNats.AddOptions(command, "publish the frames to");
        command.SetAction((parseResult, cancellationToken) =>
        {
            if (BridgeOverNats.Chosen(parseResult, nats, to, CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout))) is { } natsTarget)
            {
                return BridgeOverNats.SendAsync(
                    parseResult.GetValue(name)!,
                    natsTarget,
                    new ReaderOptions
                    {
                        PayloadSize = parseResult.GetValue(payloadSize),
                        MetadataSize = parseResult.GetValue(metadataSize),
                        WaitStrategy = CommonOptions.ParseWait(parseResult.GetValue(wait)),
                    },
                    parseResult.GetValue(lockDirectory),
                    cancellationToken);
            }
            (string host, int port) = ParseHostAndPort(parseResult.GetValue(to)!);
            return Task.FromResult(Send(
                new SendSettings(
                    parseResult.GetValue(name)!,
                    host,
                    port,
                    parseResult.GetValue(payloadSize),
                    parseResult.GetValue(metadataSize),
                    CommonOptions.ParseWait(parseResult.GetValue(wait)),
                    parseResult.GetValue(lockDirectory),
                    CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout))),
                cancellationToken));
        });
        return command;
    }

    private static Command CreateReceive()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        var listen = new Option<string>("--listen")
        {
            Description = "Where to listen: PORT (loopback only) or ADDRESS:PORT (e.g. 0.0.0.0:7000 for every interface) (TCP; or --nats).",
            HelpName = "[address:]port",
        };
        Option<string> wait = CommonOptions.CreateWaitOption();
        Option<double> connectTimeout = CommonOptions.CreateConnectTimeoutOption("connect to a NATS server (with --nats), and to the local buffer (its reader must create it)", 30);
        var command = new Command("receive", "Accept one 'bridge send' connection (--listen), or subscribe to a NATS subject (--nats), and write " +
            "what arrives into a local buffer as its writer; exits when the sender's stream ends.")
        {
            name, listen, wait, connectTimeout,
        };
        var nats = BridgeOverNats.AddOptions(command, "take the frames from");
        command.SetAction((parseResult, cancellationToken) =>
            BridgeOverNats.Chosen(parseResult, nats, listen, CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout))) is { } natsSource
            ? BridgeOverNats.ReceiveAsync(
                parseResult.GetValue(name)!,
                natsSource,
                new WriterOptions { WaitStrategy = CommonOptions.ParseWait(parseResult.GetValue(wait)) },
                CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout)),
                cancellationToken)
            : Task.FromResult(Receive(
            new ReceiveSettings(
                parseResult.GetValue(name)!,
                ParseListen(parseResult.GetValue(listen)!),
                CommonOptions.ParseWait(parseResult.GetValue(wait)),
                CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout))),
            cancellationToken)));
        return command;
    }

    private static int Send(SendSettings settings, CancellationToken cancellationToken)
    {
        var options = new ReaderOptions { PayloadSize = settings.PayloadSize, MetadataSize = settings.MetadataSize, WaitStrategy = settings.Wait };
        if (settings.LockDirectory is not null)
        {
            options = options with { LockDirectory = settings.LockDirectory };
        }
        // A typing error is reported now, not after the connection and the far end are up.
        RingReader.Validate(settings.Name, options);
        bool interactive = !Console.IsErrorRedirected;
        MessageConnection connection = ConnectTo(settings, interactive, cancellationToken);
        if (interactive)
        {
            Console.Error.Write($"Connected to {settings.Host}:{settings.Port}. Buffer '{settings.Name}' is created once the receiving end is ready, " +
                "then forwarded until its writer disconnects. Ctrl+C to stop.\n");
        }
        // Creates the buffer only once the far end can take its frames; exit code 0 means the far end confirmed every frame.
        RingBridgeResult result = RingBridge.SendAsync(connection, settings.Name, options, cancellationToken).GetAwaiter().GetResult();
        if (interactive)
        {
            Console.Error.Write($"Forwarded {result.Frames} frames, {result.Bytes} bytes; the receiving end confirmed all of them.\n");
        }
        return 0;
    }

    private static MessageConnection ConnectTo(SendSettings settings, bool interactive, CancellationToken cancellationToken)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(settings.ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
        bool told = false;
        while (true)
        {
            try
            {
                return MessageConnection.ConnectTcpAsync(settings.Host, settings.Port, cancellationToken: cancellationToken).AsTask().GetAwaiter().GetResult();
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionRefused or SocketError.TimedOut or
                SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TryAgain)
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    CliErrors.Fail($"could not connect to {settings.Host}:{settings.Port} within {settings.ConnectTimeout.TotalSeconds:0.###} s " +
                        $"({exception.Message}); start 'zerolane bridge receive' there first.");
                }
                if (interactive && !told)
                {
                    Console.Error.Write($"Waiting for 'zerolane bridge receive' at {settings.Host}:{settings.Port}...\n");
                    told = true;
                }
                WaitOrCancel(cancellationToken);
            }
            catch (SocketException exception)
            {
                CliErrors.Fail($"could not connect to {settings.Host}:{settings.Port}: {exception.Message}");
            }
        }
    }

    private static int Receive(ReceiveSettings settings, CancellationToken cancellationToken)
    {
        // Validates the name (one-line error for a bad one) before waiting for a sender, not after it has connected.
        BufferInspector.TryGetStats(settings.Name, out _);
        bool interactive = !Console.IsErrorRedirected;
        MessageConnection connection;
        MessageListener listener;
        try
        {
            listener = MessageListener.ListenTcp(settings.Listen.Port, settings.Listen.Address, backlog: 1);
        }
        catch (SocketException exception)
        {
            throw new CommandException($"cannot listen on {settings.Listen}: {exception.Message}");
        }
        using (listener)
        {
            if (interactive)
            {
                Console.Error.Write($"Listening on {listener.LocalEndPoint} for 'zerolane bridge send'. Ctrl+C to stop.\n");
            }
            connection = listener.AcceptAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
        }
        using (connection)
        {
            RingWriter? connected = ConnectWriter(settings, interactive, cancellationToken);
            if (connected is null)
            {
                string seconds = settings.ConnectTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                // The sender learns why, creates no buffer of its own and exits 1 too.
                RingBridge.RefuseAsync(connection, $"buffer '{settings.Name}' did not appear on the receiving host within {seconds} s: start its " +
                    $"reader there first (for example 'zerolane read {settings.Name}')").GetAwaiter().GetResult();
                CliErrors.Fail($"buffer '{settings.Name}' did not appear within {seconds} s: start its reader on this host first " +
                    $"(for example 'zerolane read {settings.Name}').");
            }
            using RingWriter writer = connected;
            RingBridgeResult result = RingBridge.ReceiveAsync(connection, writer, cancellationToken).GetAwaiter().GetResult();
            if (interactive)
            {
                Console.Error.Write($"Received {result.Frames} frames, {result.Bytes} bytes into buffer '{settings.Name}'.\n");
            }
            return 0;
        }
    }

    /// <summary>Connects the local writer, waiting up to the connect timeout for a reader to create the buffer; null if none did.</summary>
    private static RingWriter? ConnectWriter(ReceiveSettings settings, bool interactive, CancellationToken cancellationToken)
    {
        var options = new WriterOptions { WaitStrategy = settings.Wait };
        if (RingWriter.TryConnect(settings.Name, out RingWriter? writer, TimeSpan.Zero, options, cancellationToken) == ConnectStatus.Success)
        {
            return writer;
        }
        if (interactive)
        {
            Console.Error.Write($"Waiting for a reader to create buffer '{settings.Name}'...\n");
        }
        return RingWriter.TryConnect(settings.Name, out writer, settings.ConnectTimeout, options, cancellationToken) == ConnectStatus.Success ? writer : null;
    }

    private static void WaitOrCancel(CancellationToken cancellationToken)
    {
        if (cancellationToken.WaitHandle.WaitOne(s_retryInterval))
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary><c>HOST:PORT</c>, <c>1.2.3.4:PORT</c> or <c>[::1]:PORT</c>.</summary>
    internal static (string Host, int Port) ParseHostAndPort(string value)
    {
        int colon = value.LastIndexOf(':');
        CliErrors.Require(colon > 0, $"'{value}' is not HOST:PORT.");
        string host = value[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        if (host.Length == 0 || !TryParsePort(value[(colon + 1)..], out int port) || port == 0)
        {
            throw new CommandException($"'{value}' is not HOST:PORT with a port from 1 to 65535.");
        }
        return (host, port);
    }

    /// <summary><c>PORT</c> (loopback) or <c>ADDRESS:PORT</c>.</summary>
    internal static IPEndPoint ParseListen(string value)
    {
        if (TryParsePort(value, out int port))
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }
        if (!value.Contains(':') || !IPEndPoint.TryParse(value, out IPEndPoint? endPoint))
        {
            throw new CommandException($"'{value}' is not PORT or ADDRESS:PORT (an IP address, e.g. 127.0.0.1:7000 or [::1]:7000).");
        }
        return endPoint;
    }

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= IPEndPoint.MaxPort;
}
