using System.Buffers.Binary;
using ZeroLane.Buffers;
using ZeroLane.Duplex;

namespace ZeroLane.TestPeer;

/// <summary>
/// The duplex service scenarios: an echo service for any number of clients, and a client that joins it and sends
/// requests carrying its own process ID, so that an answer meant for another client cannot pass for its own.
/// </summary>
public static class ServiceScenarios
{
    private static readonly string BufferLockDirectory = new ReaderOptions().LockDirectory;

    /// <summary>service-server NAME: echoes every client's requests; on "exit" prints SERVED answered=A joined=J left=L.</summary>
    internal static int Server(PeerArguments arguments, CancellationToken stop)
    {
        var options = new DuplexServiceOptions
        {
            Server = new DuplexServerOptions { RequestRing = Ring(arguments) },
            MaxClients = (int)(arguments.Number("max-clients") ?? 64),
        };
        DuplexService service;
        try
        {
            service = new DuplexService(arguments.Name, request => request.Span, options);
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
        stop.WaitHandle.WaitOne();
        service.Dispose();
        Console.WriteLine($"{PeerOutput.Served} answered={service.RequestsAnswered} joined={service.ClientsJoined} left={service.ClientsLeft}");
        return Scenarios.Bye();
    }

    /// <summary>
    /// service-client NAME: joins, prints CONNECTED pid=P channel=C; with --wait-go waits for "go"; sends --count requests
    /// (PID, then the frame pattern of the sequence, lengths varied up to --max-size), checks that each answer is its own
    /// request byte for byte, prints OK frames=N (or ERROR Type: message); then holds with --hold.
    /// </summary>
    internal static int Client(PeerArguments arguments, ManualResetEventSlim go, CancellationToken stop)
    {
        var options = new DuplexClientOptions { ResponseRing = Ring(arguments) };
        DuplexClient client;
        try
        {
            client = DuplexService.Connect(arguments.Name, TimeSpan.FromMilliseconds(arguments.Number("timeout-ms") ?? 30_000), options, stop);
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        using (client)
        {
            Console.WriteLine($"{PeerOutput.Connected} pid={Environment.ProcessId} channel={client.Name}");
            if (arguments.Has("wait-go"))
            {
                go.Wait(stop);
            }
            long count = arguments.Number("count") ?? 1;
            int maxSize = (int)(arguments.Number("max-size") ?? 4096);
            try
            {
                for (ulong sequence = 1; sequence <= (ulong)count; sequence++)
                {
                    byte[] request = new byte[4 + FramePattern.VariedLength(sequence, maxSize)];
                    BinaryPrimitives.WriteInt32LittleEndian(request, Environment.ProcessId);
                    FramePattern.Fill(request.AsSpan(4), sequence);
                    using Frame response = client.Request(request, TimeSpan.FromSeconds(30), stop);
                    if (!response.Span.SequenceEqual(request))
                    {
                        int from = response.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(response.Span) : 0;
                        Console.WriteLine($"{PeerOutput.Error} WrongResponse: seq={response.Sequence} len={response.Length} expected={request.Length} pid={from}");
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

    private static ReaderOptions Ring(PeerArguments arguments) => new()
    {
        PayloadSize = arguments.Number("payload") ?? 1L << 20,
        MetadataSize = 0,
        PeerCheckInterval = TimeSpan.FromMilliseconds(arguments.Number("check-ms") ?? 100),
        LockDirectory = arguments.Text("lock-dir") ?? BufferLockDirectory,
    };
}
