using ZeroLane.Buffers;
using ZeroLane.Duplex;

namespace ZeroLane.TestPeer;

/// <summary>
/// The duplex channel scenarios: an echo server whose requests can ask it to fail or hang, and a client that sends
/// patterned requests and checks every echo.
/// </summary>
public static class DuplexScenarios
{
    /// <summary>A request starting with these bytes makes the echo server's handler throw.</summary>
    public static ReadOnlySpan<byte> FailRequest => "FAIL"u8;

    /// <summary>A request starting with these bytes makes the echo server's handler wait until the peer is stopped.</summary>
    public static ReadOnlySpan<byte> HangRequest => "HANG"u8;

    /// <summary>The default lock directory of rings (ReaderOptions.LockDirectory).</summary>
    private static readonly string BufferLockDirectory = new ReaderOptions().LockDirectory;

    /// <summary>The text of the exception a FAIL request raises.</summary>
    public const string FailureText = "asked to fail";

    internal static int Server(PeerArguments arguments, CancellationToken stop)
    {
        var options = new DuplexServerOptions
        {
            RequestRing = new ReaderOptions
            {
                PayloadSize = arguments.Number("payload") ?? 1L << 20,
                MetadataSize = 0,
                PeerCheckInterval = TimeSpan.FromMilliseconds(arguments.Number("check-ms") ?? 100),
                LockDirectory = arguments.Text("lock-dir") ?? BufferLockDirectory,
            },
            Mode = arguments.Enum("mode", DuplexMode.Extended),
            MaxConcurrency = (int)(arguments.Number("concurrency") ?? 1),
        };
        // --measure-from N: the bytes this process allocates between requests N, N + W and N + 2W (W = --measure-window,
        // default 500) are printed with SERVED as the smaller of the two windows (a one-time cost shows in at most one).
        long measureFrom = arguments.Number("measure-from") ?? -1;
        long window = arguments.Number("measure-window") ?? 500;
        long[] marks = [-1, -1, -1];
        void Mark(ulong sequence)
        {
            for (int i = 0; i < marks.Length; i++)
            {
                if ((long)sequence == measureFrom + i * window)
                {
                    Volatile.Write(ref marks[i], GC.GetTotalAllocatedBytes(precise: true));
                }
            }
        }
        DuplexServer server;
        try
        {
            server = arguments.Has("loan")
                ? new DuplexServer(arguments.Name, (Frame request, System.Buffers.IBufferWriter<byte> response) =>
                {
                    Mark(request.Sequence);
                    ReadOnlySpan<byte> echo = Echo(request, stop);
                    echo.CopyTo(response.GetSpan(echo.Length));
                    response.Advance(echo.Length);
                }, options)
                : new DuplexServer(arguments.Name, request =>
                {
                    Mark(request.Sequence);
                    return Echo(request, stop);
                }, options);
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
        stop.WaitHandle.WaitOne();
        server.Dispose();
        string allocated = marks.All(mark => mark >= 0) ? $" allocated={Math.Min(marks[1] - marks[0], marks[2] - marks[1])}" : "";
        Console.WriteLine($"{PeerOutput.Served} answered={server.RequestsAnswered} failed={server.RequestsFailed} sessions={server.SessionsEnded}{allocated}");
        return Scenarios.Bye();
    }

    private static ReadOnlySpan<byte> Echo(Frame request, CancellationToken stop)
    {
        if (request.Span.StartsWith(FailRequest))
        {
            throw new InvalidOperationException(FailureText);
        }
        if (request.Span.StartsWith(HangRequest))
        {
            stop.WaitHandle.WaitOne();
        }
        return request.Span;
    }

    /// <summary>
    /// Connects, sends --count patterned requests (lengths varied up to --max-size, default 4 KiB; --pipeline K keeps K in
    /// flight), checks that each response is its request's bytes under its sequence number, prints OK frames=N; then
    /// holds with --hold.
    /// </summary>
    internal static int Client(PeerArguments arguments, CancellationToken stop)
    {
        var options = new DuplexClientOptions
        {
            ResponseRing = new ReaderOptions
            {
                PayloadSize = arguments.Number("payload") ?? 1L << 20,
                MetadataSize = 0,
                PeerCheckInterval = TimeSpan.FromMilliseconds(arguments.Number("check-ms") ?? 100),
                LockDirectory = arguments.Text("lock-dir") ?? BufferLockDirectory,
            },
            Mode = arguments.Enum("mode", DuplexMode.Extended),
        };
        DuplexClient client;
        try
        {
            client = DuplexClient.Connect(arguments.Name, TimeSpan.FromSeconds(30), options, stop);
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        using (client)
        {
            Console.WriteLine($"{PeerOutput.Connected} pid={Environment.ProcessId}");
            long count = arguments.Number("count") ?? 1;
            int maxSize = (int)(arguments.Number("max-size") ?? 4096);
            int pipeline = (int)(arguments.Number("pipeline") ?? 1);
            TimeSpan timeout = TimeSpan.FromSeconds(30);
            if (arguments.Has("send-only"))
            {
                return SendOnly(client, count, maxSize, timeout, arguments, stop);
            }
            try
            {
                ulong sent = 0, received = 0;
                while (received < (ulong)count)
                {
                    while (sent < (ulong)count && sent - received < (ulong)pipeline)
                    {
                        ulong next = sent + 1;
                        byte[] request = new byte[FramePattern.VariedLength(next, maxSize)];
                        FramePattern.Fill(request, next);
                        ulong sequence = client.SendRequest(request, timeout, stop);
                        if (sequence != next)
                        {
                            Console.WriteLine($"{PeerOutput.Error} SequenceGap: request {next} was given sequence {sequence}");
                            return ExitCodes.VerificationFailed;
                        }
                        sent = next;
                    }
                    using Frame response = client.ReceiveResponse(received + 1, timeout, stop);
                    received++;
                    if (response.Sequence != received || FramePattern.Verify(response.Span, received) is { } problem)
                    {
                        Console.WriteLine($"{PeerOutput.Error} WrongResponse: seq={response.Sequence} expected={received} len={response.Length}");
                        return ExitCodes.VerificationFailed;
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Console.WriteLine($"{PeerOutput.Error} {e.GetType().Name}: {Scenarios.OneLine(e.Message)}");
                return ExitCodes.VerificationFailed;
            }
            Console.WriteLine($"{PeerOutput.Ok} frames={count}");
            Scenarios.Hold(arguments, stop);
        }
        return Scenarios.Bye();
    }

    /// <summary>--send-only: sends the requests, reads no response, prints SENT requests=N and holds until killed or stopped.</summary>
    private static int SendOnly(DuplexClient client, long count, int maxSize, TimeSpan timeout, PeerArguments arguments, CancellationToken stop)
    {
        for (ulong next = 1; next <= (ulong)count; next++)
        {
            byte[] request = new byte[FramePattern.VariedLength(next, maxSize)];
            FramePattern.Fill(request, next);
            client.SendRequest(request, timeout, stop);
        }
        Console.WriteLine($"{PeerOutput.Sent} requests={count}");
        Scenarios.Hold(arguments, stop);
        return Scenarios.Bye();
    }
}
