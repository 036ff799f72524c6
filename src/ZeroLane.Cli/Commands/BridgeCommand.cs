using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ZeroLane.Buffers;
using ZeroLane.Cli.Bridge;
using ZeroLane.Messages;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane bridge send|receive</c>: carries a buffer's frames and metadata across hosts over TCP, so a
/// reader on host B receives what a writer on host A wrote. See <see cref="BridgeProtocol"/> for the wire.
/// </summary>
/// <remarks>
/// Design: neither end buffers anything of its own. The receiver reads the next message from the socket
/// only once its blocking ring write has returned, so a slow far reader fills the far ring, then the TCP
/// windows, which blocks the sender's send, which stops it reading the near ring, which blocks the near
/// writer. Nothing is dropped anywhere.
/// </remarks>
internal static class BridgeCommand
{
    private static readonly TimeSpan s_retryInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often a sender with no metadata forwarded yet looks for it while no frame arrives.</summary>
    private static readonly TimeSpan s_metadataPollInterval = TimeSpan.FromMilliseconds(100);

    private sealed record SendSettings(
        string Name, string Host, int Port, long PayloadSize, long MetadataSize, WaitStrategy Wait, string? LockDirectory, TimeSpan ConnectTimeout);

    private sealed record ReceiveSettings(string Name, IPEndPoint Listen, WaitStrategy Wait, TimeSpan ConnectTimeout);

    internal static Command Create() => new("bridge", "Carry a buffer's frames and metadata to another host over TCP.")
    {
        CreateSend(),
        CreateReceive(),
    };

    private static Option<double> CreateConnectTimeoutOption(string what) => new("--connect-timeout")
    {
        Description = $"Seconds to keep trying to {what} before giving up (exit code 1).",
        DefaultValueFactory = _ => 30,
        HelpName = "seconds",
    };

    private static Command CreateSend()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        var to = new Option<string>("--to") { Description = "The receiving end: HOST:PORT.", Required = true, HelpName = "host:port" };
        Option<long> payloadSize = CommonOptions.CreateSizeOption("--payload-size", "Size of the payload block.", 64L << 20);
        Option<long> metadataSize = CommonOptions.CreateSizeOption("--metadata-size", "Size of the metadata block (0 for none).", 4096);
        Option<string> wait = CommonOptions.CreateWaitOption();
        Option<string?> lockDirectory = CommonOptions.CreateLockDirectoryOption();
        Option<double> connectTimeout = CreateConnectTimeoutOption("connect to the receiving end");
        var command = new Command("send", "Create a buffer as its reader and forward its metadata and every frame to a 'bridge receive' over TCP; " +
            "exits when the writer disconnects and everything was delivered.")
        {
            name, to, payloadSize, metadataSize, wait, lockDirectory, connectTimeout,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
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
                    Seconds(parseResult.GetValue(connectTimeout))),
                cancellationToken));
        });
        return command;
    }

    private static Command CreateReceive()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        var listen = new Option<string>("--listen")
        {
            Description = "Where to listen: PORT (loopback only) or ADDRESS:PORT (e.g. 0.0.0.0:7000 for every interface).",
            Required = true,
            HelpName = "[address:]port",
        };
        Option<string> wait = CommonOptions.CreateWaitOption();
        Option<double> connectTimeout = CreateConnectTimeoutOption("connect to the local buffer (its reader must create it)");
        var command = new Command("receive", "Accept one 'bridge send' connection and write what it forwards into a local buffer as its writer; " +
            "exits when the sender's stream ends.")
        {
            name, listen, wait, connectTimeout,
        };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Receive(
            new ReceiveSettings(
                parseResult.GetValue(name)!,
                ParseListen(parseResult.GetValue(listen)!),
                CommonOptions.ParseWait(parseResult.GetValue(wait)),
                Seconds(parseResult.GetValue(connectTimeout))),
            cancellationToken)));
        return command;
    }

    private static int Send(SendSettings settings, CancellationToken cancellationToken)
    {
        var options = new BufferOptions { PayloadSize = settings.PayloadSize, MetadataSize = settings.MetadataSize, WaitStrategy = settings.Wait };
        if (settings.LockDirectory is not null)
        {
            options = options with { LockDirectory = settings.LockDirectory };
        }
        using var reader = new RingReader(settings.Name, options);
        bool interactive = !Console.IsErrorRedirected;
        using BridgeStream stream = ConnectTo(settings, interactive, cancellationToken);
        if (interactive)
        {
            Console.Error.Write($"Forwarding buffer '{reader.Name}' to {settings.Host}:{settings.Port}; waiting for a writer. Ctrl+C to stop.\n");
        }
        bool metadataSent = false;
        byte[] sequenceBody = new byte[BridgeProtocol.SequenceLength];
        while (true)
        {
            if (!metadataSent && reader.HasMetadata)
            {
                SendMetadata(stream, reader, cancellationToken);
                metadataSent = true;
            }
            ReadStatus status = reader.TryRead(out Frame frame, metadataSent ? Timeout.InfiniteTimeSpan : s_metadataPollInterval, cancellationToken);
            switch (status)
            {
                case ReadStatus.Success:
                    if (!metadataSent && reader.HasMetadata)
                    {
                        SendMetadata(stream, reader, cancellationToken);
                        metadataSent = true;
                    }
                    BridgeProtocol.WriteSequence(sequenceBody, frame.Sequence);
                    // The message owns the frame: it is released once sent, which is what lets the near writer go on.
                    using (Message message = Message.CreateBuilder().WithBody(sequenceBody).AddPart(frame).Build())
                    {
                        stream.Send(message, cancellationToken);
                    }
                    break;
                case ReadStatus.TimedOut:
                    break;
                case ReadStatus.WriterDisconnected:
                    if (!metadataSent && reader.HasMetadata)
                    {
                        SendMetadata(stream, reader, cancellationToken);
                    }
                    using (Message end = Message.Create(BridgeProtocol.EndTag.ToArray()))
                    {
                        stream.Send(end, cancellationToken);
                    }
                    stream.CloseAndWaitForPeer(cancellationToken);
                    if (interactive)
                    {
                        Console.Error.Write($"Forwarded {reader.FramesRead} frames, {reader.BytesRead} bytes.\n");
                    }
                    return 0;
                default:
                    CliErrors.Fail($"the writer of buffer '{settings.Name}' died without disconnecting after {reader.FramesRead} frames; " +
                        "the far side was not told the stream ended.");
                    break;
            }
        }
    }

    private static void SendMetadata(BridgeStream stream, RingReader reader, CancellationToken cancellationToken)
    {
        using Message message = Message.Create(BridgeProtocol.MetadataTag.ToArray(), reader.GetMetadata().ToArray());
        stream.Send(message, cancellationToken);
    }

    private static BridgeStream ConnectTo(SendSettings settings, bool interactive, CancellationToken cancellationToken)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(settings.ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
        bool told = false;
        while (true)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.ConnectAsync(settings.Host, settings.Port, cancellationToken).AsTask().GetAwaiter().GetResult();
                return new BridgeStream(socket);
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionRefused or SocketError.TimedOut or
                SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TryAgain)
            {
                socket.Dispose();
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
                socket.Dispose();
                CliErrors.Fail($"could not connect to {settings.Host}:{settings.Port}: {exception.Message}");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    private static int Receive(ReceiveSettings settings, CancellationToken cancellationToken)
    {
        bool interactive = !Console.IsErrorRedirected;
        Socket connection;
        using (var listener = new Socket(settings.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                listener.Bind(settings.Listen);
                listener.Listen(1);
            }
            catch (SocketException exception)
            {
                CliErrors.Fail($"cannot listen on {settings.Listen}: {exception.Message}");
            }
            if (interactive)
            {
                Console.Error.Write($"Listening on {listener.LocalEndPoint} for 'zerolane bridge send'. Ctrl+C to stop.\n");
            }
            connection = listener.AcceptAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
        }
        using var stream = new BridgeStream(connection);
        RingWriter writer = ConnectWriter(settings, interactive, cancellationToken);
        try
        {
            // Nothing larger could be written to the local buffer anyway; refusing it before allocating is the point of the limit.
            long largest = Math.Max(writer.MaxFrameLength, writer.MetadataCapacity) + MessageFrame.HeaderSize(1) + BridgeProtocol.SequenceLength;
            var limits = new MessageFrameLimits { MaxFrameLength = Math.Min(int.MaxValue, largest), MaxParts = 1 };
            ulong expectedSequence = 1;
            while (true)
            {
                using Message? message = stream.Receive(limits, cancellationToken);
                if (message is null)
                {
                    CliErrors.Fail($"the sender closed the connection before the end of the stream (it failed or was stopped); " +
                        $"{writer.FramesWritten} frames were written to buffer '{settings.Name}'.");
                }
                ReadOnlySpan<byte> body = message.Body.Span;
                switch (BridgeProtocol.KindOf(body, message.PartCount))
                {
                    case BridgeProtocol.Kind.Frame:
                        ulong sequence = BridgeProtocol.ReadSequence(body);
                        CliErrors.Require(sequence == expectedSequence,
                            $"the sender forwarded frame {sequence} where frame {expectedSequence} was expected; the stream is broken.");
                        // Blocks while the local ring is full: this is where back-pressure starts.
                        writer.Write(message.GetPart(0).Span, cancellationToken);
                        expectedSequence++;
                        break;
                    case BridgeProtocol.Kind.Metadata:
                        writer.SetMetadata(message.GetPart(0).Span);
                        break;
                    case BridgeProtocol.Kind.End:
                        // Disconnect the writer before closing the connection: when the sender sees the close, the reader here has it all.
                        writer.Dispose();
                        if (interactive)
                        {
                            Console.Error.Write($"Received {writer.FramesWritten} frames, {writer.BytesWritten} bytes into buffer '{settings.Name}'.\n");
                        }
                        return 0;
                    default:
                        CliErrors.Fail("the peer sent a message that is not part of the bridge protocol; is it 'zerolane bridge send'?");
                        break;
                }
            }
        }
        finally
        {
            writer.Dispose();
        }
    }

    private static RingWriter ConnectWriter(ReceiveSettings settings, bool interactive, CancellationToken cancellationToken)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(settings.ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
        bool told = false;
        while (true)
        {
            try
            {
                return new RingWriter(settings.Name, new WriterOptions { WaitStrategy = settings.Wait });
            }
            catch (BufferNotFoundException)
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    CliErrors.Fail($"buffer '{settings.Name}' did not appear within {settings.ConnectTimeout.TotalSeconds:0.###} s: " +
                        "start its reader on this host first (for example 'zerolane read " + settings.Name + "').");
                }
                if (interactive && !told)
                {
                    Console.Error.Write($"Waiting for a reader to create buffer '{settings.Name}'...\n");
                    told = true;
                }
                WaitOrCancel(cancellationToken);
            }
        }
    }

    private static void WaitOrCancel(CancellationToken cancellationToken)
    {
        if (cancellationToken.WaitHandle.WaitOne(s_retryInterval))
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static TimeSpan Seconds(double seconds)
    {
        CliErrors.Require(seconds is >= 0 and < 1e9, "--connect-timeout must be a non-negative number of seconds.");
        return TimeSpan.FromSeconds(seconds);
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
