using System.Buffers.Binary;
using ZeroLane.Buffers;
using ZeroLane.Duplex;

namespace ZeroLane.TestPeer;

/// <summary>
/// The requests of the duplex crash tests: each carries a unique id, and the answer is a fixed transform of its bytes,
/// so a response matches exactly one request, never an older one, another trial's, or the request bytes themselves.
/// </summary>
/// <remarks>
/// Layout: byte 0 is the kind (<see cref="Normal"/> or <see cref="Hang"/>), bytes 1-8 the id (little-endian), then filler
/// derived from the id. The answer is every byte XOR <see cref="Mask"/>, the same length.
/// </remarks>
public static class DuplexCrashRequests
{
    /// <summary>A request the crash server answers at once.</summary>
    public const byte Normal = (byte)'N';

    /// <summary>A request whose handler prints <see cref="HangingLine"/> and blocks until the server is killed (or stopped).</summary>
    public const byte Hang = (byte)'H';

    /// <summary>Kind and id: the shortest request.</summary>
    public const int HeaderLength = 9;

    /// <summary>What the answer XORs every request byte with.</summary>
    public const byte Mask = 0xA5;

    /// <summary><c>HANDLING seq=S id=I</c>: the crash server's handler began request S (so every earlier answer is written).</summary>
    public const string HandlingLine = "HANDLING";

    /// <summary><c>HANGING seq=S</c>: the handler of request S blocks until the server is killed.</summary>
    public const string HangingLine = "HANGING";

    /// <summary>A request of <paramref name="kind"/> with <paramref name="id"/>, <paramref name="length"/> bytes (at least <see cref="HeaderLength"/>).</summary>
    public static byte[] Create(byte kind, ulong id, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, HeaderLength);
        byte[] request = new byte[length];
        request[0] = kind;
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(1), id);
        for (int i = HeaderLength; i < length; i++)
        {
            request[i] = (byte)((id * 0x9E3779B97F4A7C15UL + (ulong)i * 0xBF58476D1CE4E5B9UL) >> 56);
        }
        return request;
    }

    /// <summary>The id of a request (or, transformed back, of an answer).</summary>
    public static ulong IdOf(ReadOnlySpan<byte> request) =>
        request.Length >= HeaderLength ? BinaryPrimitives.ReadUInt64LittleEndian(request[1..]) : 0;

    /// <summary>Writes the answer to <paramref name="request"/> into <paramref name="response"/> (at least as long).</summary>
    public static void Answer(ReadOnlySpan<byte> request, Span<byte> response)
    {
        for (int i = 0; i < request.Length; i++)
        {
            response[i] = (byte)(request[i] ^ Mask);
        }
    }

    /// <summary>True when <paramref name="response"/> is exactly the answer to <paramref name="request"/>.</summary>
    public static bool IsAnswerTo(ReadOnlySpan<byte> response, ReadOnlySpan<byte> request)
    {
        if (response.Length != request.Length)
        {
            return false;
        }
        for (int i = 0; i < request.Length; i++)
        {
            if (response[i] != (byte)(request[i] ^ Mask))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The id a response answers (its bytes 1-8 transformed back); 0 if it is too short.</summary>
    public static ulong IdAnswered(ReadOnlySpan<byte> response)
    {
        if (response.Length < HeaderLength)
        {
            return 0;
        }
        Span<byte> id = stackalloc byte[8];
        for (int i = 0; i < 8; i++)
        {
            id[i] = (byte)(response[1 + i] ^ Mask);
        }
        return BinaryPrimitives.ReadUInt64LittleEndian(id);
    }
}

/// <summary>
/// <c>duplex-crash-server NAME [--payload N] [--loan] [--check-ms N] [--lock-dir D]</c>: the server the crash tests kill.
/// Answers each request with <see cref="DuplexCrashRequests.Answer"/>, printing <c>HANDLING seq=S id=I</c> as each
/// handler begins; a <see cref="DuplexCrashRequests.Hang"/> request prints <c>HANGING seq=S</c> and blocks until the
/// peer is stopped. Prints READY, and on "exit" SERVED answered=A failed=F sessions=S and BYE.
/// </summary>
public static class DuplexCrashScenarios
{
    internal static int Server(PeerArguments arguments, CancellationToken stop)
    {
        var options = new DuplexServerOptions
        {
            RequestRing = new ReaderOptions
            {
                PayloadSize = arguments.Number("payload") ?? 1L << 20,
                MetadataSize = 0,
                PeerCheckInterval = TimeSpan.FromMilliseconds(arguments.Number("check-ms") ?? 100),
                LockDirectory = arguments.Text("lock-dir") ?? new ReaderOptions().LockDirectory,
            },
            Mode = arguments.Enum("mode", DuplexMode.Extended),
        };
        // The bytes handler answers from this buffer: the server copies the answer before it reads the next request.
        byte[] answer = new byte[options.RequestRing.PayloadSize];
        DuplexServer server;
        try
        {
            server = arguments.Has("loan")
                ? new DuplexServer(arguments.Name, (Frame request, System.Buffers.IBufferWriter<byte> response) =>
                {
                    Begin(request, stop);
                    Span<byte> span = response.GetSpan(request.Length);
                    DuplexCrashRequests.Answer(request.Span, span);
                    response.Advance(request.Length);
                }, options)
                : new DuplexServer(arguments.Name, request =>
                {
                    Begin(request, stop);
                    DuplexCrashRequests.Answer(request.Span, answer);
                    return answer.AsSpan(0, request.Length);
                }, options);
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
        stop.WaitHandle.WaitOne();
        server.Dispose();
        Console.WriteLine($"{PeerOutput.Served} answered={server.RequestsAnswered} failed={server.RequestsFailed} sessions={server.SessionsEnded}");
        return Scenarios.Bye();
    }

    private static void Begin(Frame request, CancellationToken stop)
    {
        ReadOnlySpan<byte> bytes = request.Span;
        // Console.Out flushes every line: once the test sees it, every earlier request's answer has been written.
        Console.WriteLine($"{DuplexCrashRequests.HandlingLine} seq={request.Sequence} id={DuplexCrashRequests.IdOf(bytes)}");
        if (bytes.Length > 0 && bytes[0] == DuplexCrashRequests.Hang)
        {
            Console.WriteLine($"{DuplexCrashRequests.HangingLine} seq={request.Sequence}");
            stop.WaitHandle.WaitOne();
        }
    }
}
