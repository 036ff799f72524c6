using System.Globalization;
using ZeroLane;
using ZeroLane.Buffers;
using ZeroLane.TestPeer;

// Child-process peer for the cross-process tests. Usage:
//   reader NAME [--payload N] [--metadata N] [--strategy S] [--lock-dir D] [--check-ms N] [--count N] [--verbose] [--hold | --hold-ms N]
//       creates the buffer, prints READY, reads and verifies frames (all of them until the writer leaves, or --count),
//       prints OK frames=N bytes=B; with --hold keeps the buffer until killed or told "exit" on stdin, with
//       --hold-ms for N milliseconds at most.
//   hold-reader NAME [--payload N] [--metadata N] [--strategy S] [--lock-dir D]
//       creates the buffer, prints READY and never reads.
//   writer NAME [--size N | --sizes A,B,.. | --max-size N] [--count N | --forever] [--loan] [--strategy S] [--check-ms N] [--hold | --hold-ms N]
//       connects, prints CONNECTED, writes patterned frames (FramePattern), prints WRITTEN frames=N bytes=B;
//       with --hold stays connected until killed or told "exit" (--hold-ms: N milliseconds at most); then
//       disconnects and prints BYE.
//   hold-writer NAME [--strategy S]
//       connects, prints CONNECTED and never writes.
//   touch-truncated PATH [--via array|foreign-mapping]
//       maps the int32 .npy file PATH as a read-only MappedArray (and, with --via foreign-mapping, also through
//       System.IO.MemoryMappedFiles), prints READY, waits for "go" on stdin (the test truncates the file first),
//       then reads the last element through the chosen mapping and prints VALUE value=V or THREW Type: message.
//   subscriber TOPIC [--count N] [--hold-samples K | --hold-rolling K] [--max-held M]
//       subscribes, prints READY, then reads N samples verifying each (FramePattern by sequence, sequences rising)
//       and prints OK samples=N dropped=D; with --hold-samples reads K, keeps them, prints HOLDING and waits; with
//       --hold-rolling reads and verifies until killed, always holding the latest K (HOLDING once it holds K).
//   publisher TOPIC [--count N] [--size B] [--slots S] [--depth D] [--subscribers K] [--hold | --forever [--every-ms P]]
//       publishes, prints READY, waits for K subscribers, writes N patterned samples, prints WRITTEN samples=N;
//       with --forever goes on writing patterned samples of varied lengths (pausing P ms between them) until killed.
//   poke NAME --offset N --value V
//       writes V as a little-endian u64 at byte N of /dev/shm/NAME (through the file, not a mapping of ours), prints
//       POKED and exits: the corruption tests' stray process.
//   message-encode FILE | message-send ENDPOINT [--count N] | message-receive ENDPOINT [--echo]
//   message-ring-writer NAME [--count N] | message-ring-reader NAME [--payload N]
//       the Python client's cross-language message tests (MessageScenarios): ENDPOINT is tcp:HOST:PORT or unix:PATH;
//       every message sent or received is printed as MSG i BODYLEN/PARTLENS SHA256.
//   duplex-server NAME [--payload N] [--loan] [--check-ms N] [--lock-dir D] [--mode reference|extended] [--concurrency N]
//       [--measure-from N [--measure-window W]]
//       serves duplex channel NAME with an echo handler (--loan: written in place), prints READY; a request starting
//       with FAIL makes the handler throw, one starting with HANG makes it wait until stopped; on "exit" stops and
//       prints SERVED answered=A failed=F sessions=S, then BYE.
//   duplex-client NAME [--count N] [--max-size M] [--pipeline K] [--payload N] [--check-ms N] [--lock-dir D] [--hold] [--send-only] [--mode M]
//       connects to duplex channel NAME, prints CONNECTED, sends N patterned requests (K in flight) and checks each echo,
//       prints OK frames=N (or ERROR Type: message); with --hold stays connected until killed or told "exit";
//       with --send-only sends the N requests, reads no response, prints SENT requests=N and holds.
//   duplex-crash-server NAME [--payload N] [--loan] [--check-ms N] [--lock-dir D]
//       the server the duplex crash tests kill (DuplexCrashScenarios): answers each request with its bytes XOR 0xA5,
//       printing HANDLING seq=S id=I as each handler begins; a request of kind 'H' prints HANGING seq=S and blocks.
//   service-server NAME [--max-clients N] [--payload N] [--check-ms N] [--lock-dir D]
//       runs echo duplex service NAME, prints READY; on "exit" stops and prints SERVED answered=A joined=J left=L, then BYE.
//   service-client NAME [--count N] [--max-size M] [--timeout-ms T] [--wait-go] [--payload N] [--check-ms N] [--lock-dir D] [--hold]
//       joins duplex service NAME, prints CONNECTED pid=P channel=C, (--wait-go: waits for "go") sends N requests that
//       carry its PID and checks each answer is its own, prints OK frames=N (or ERROR Type: message); --hold as above.
//   socket-duplex-server ENDPOINT [--tls PFX] [--max-concurrency N] [--max-message N] [--stop-ms N]
//       serves duplex calls over a socket (tcp:PORT on loopback, or unix:PATH) with an echo handler that fails, waits or
//       answers big as each request's body asks (SocketDuplexScenarios), prints READY pid=P port=N; on "exit" stops and
//       prints SERVED answered=A failed=F connections=C, then BYE.
//   nats-gateway URLS --topic PATTERN[,PATTERN] [--name N] [--discovery-ms D] [--durable [--replay K]]
//       runs a NATS gateway, prints READY pid=P id=ID; on "go" looks at local topics at once and prints REFRESHED
//       imported=N exported=M; on "exit" prints STATS sent=S received=R lost=L dropped=D rejected=J reconnects=C, then BYE.
//   nats-subscriber TOPIC [--count N | --until-short] [--allow-repeats]
//       subscribes, prints READY, reads N samples (--until-short: until a 16-byte sample) that must each be a whole FramePattern frame carrying its own sequence,
//       in rising order (--allow-repeats: a sample again is counted, not an error), prints FIRST seq=S at the first, and at
//       the end OK samples=N first=F last=L missing=M forwarded=K repeats=R dropped=D (or ERROR ...); publishers leaving are passed over.
// Stdin: the line "exit" stops the peer gracefully, "go" lets a waiting scenario go on; end of stdin (the test
// process died) exits at once.
using var stop = new CancellationTokenSource();
using var go = new ManualResetEventSlim();
WatchStdin(stop, go);
try
{
    PeerArguments arguments = PeerArguments.Parse(args);
    return arguments.Scenario switch
    {
        "reader" => Scenarios.Reader(arguments, read: true, stop.Token),
        "hold-reader" => Scenarios.Reader(arguments, read: false, stop.Token),
        "writer" => Scenarios.Writer(arguments, write: true, stop.Token),
        "hold-writer" => Scenarios.Writer(arguments, write: false, stop.Token),
        "touch-truncated" => TruncatedFileScenario.Run(arguments, go),
        "poke" => PokeScenario.Run(arguments),
        "subscriber" => TopicScenarios.Subscriber(arguments, stop.Token),
        "nats-gateway" => NatsScenarios.Gateway(arguments, go, stop.Token),
        "nats-subscriber" => NatsScenarios.Subscriber(arguments, stop.Token),
        "publisher" => TopicScenarios.Publisher(arguments, stop.Token),
        "message-encode" => MessageScenarios.Encode(arguments),
        "message-send" => MessageScenarios.Send(arguments, stop.Token),
        "message-receive" => MessageScenarios.Receive(arguments, stop.Token),
        "message-ring-writer" => MessageScenarios.WriteToRing(arguments, stop.Token),
        "message-ring-reader" => MessageScenarios.ReadFromRing(arguments, stop.Token),
        "duplex-server" => DuplexScenarios.Server(arguments, stop.Token),
        "duplex-client" => DuplexScenarios.Client(arguments, stop.Token),
        "duplex-crash-server" => DuplexCrashScenarios.Server(arguments, stop.Token),
        "service-server" => ServiceScenarios.Server(arguments, stop.Token),
        "service-client" => ServiceScenarios.Client(arguments, go, stop.Token),
        "socket-duplex-server" => SocketDuplexScenarios.Server(arguments, stop.Token),
        _ => throw new UsageException($"unknown scenario '{arguments.Scenario}'"),
    };
}
catch (UsageException e)
{
    Console.WriteLine($"{PeerOutput.Error} Usage: {e.Message}");
    return ExitCodes.Usage;
}

static void WatchStdin(CancellationTokenSource stop, ManualResetEventSlim go)
{
    var watcher = new Thread(() =>
    {
        while (Console.In.ReadLine() is { } line)
        {
            if (line.Trim() == PeerOutput.ExitCommand)
            {
                stop.Cancel();
            }
            else if (line.Trim() == PeerOutput.GoCommand)
            {
                go.Set();
            }
        }
        Environment.Exit(ExitCodes.ParentGone);
    })
    {
        IsBackground = true,
        Name = "stdin watcher",
    };
    watcher.Start();
}

/// <summary>The reader and writer scenarios.</summary>
internal static class Scenarios
{
    internal static int Reader(PeerArguments arguments, bool read, CancellationToken stop)
    {
        var options = new ReaderOptions
        {
            PayloadSize = arguments.Number("payload") ?? 1L << 20,
            MetadataSize = arguments.Number("metadata") ?? 0,
            WaitStrategy = arguments.Enum("strategy", WaitStrategy.SpinThenBlock),
            LockDirectory = arguments.Text("lock-dir") ?? "/tmp/zerobuffer",
            PeerCheckInterval = TimeSpan.FromMilliseconds(arguments.Number("check-ms") ?? 100),
        };
        RingReader reader;
        try
        {
            reader = new RingReader(arguments.Name, options);
        }
        catch (Exception e)
        {
            return SetupFailed(e);
        }
        int result = ExitCodes.Success;
        using (reader)
        {
            Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
            if (read)
            {
                result = ReadAndVerify(reader, arguments.Number("count"), arguments.Has("verbose"), stop);
            }
            if (result == ExitCodes.Success && !read)
            {
                stop.WaitHandle.WaitOne();
            }
            else if (result == ExitCodes.Success)
            {
                Hold(arguments, stop);
            }
        }
        return result == ExitCodes.Success ? Bye() : result;
    }

    private static int ReadAndVerify(RingReader reader, long? count, bool verbose, CancellationToken stop)
    {
        long frames = 0, bytes = 0;
        ulong previous = 0;
        while (count is null || frames < count)
        {
            ReadStatus status;
            Frame frame;
            try
            {
                status = reader.TryRead(out frame, Timeout.InfiniteTimeSpan, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception e)
            {
                Console.WriteLine($"{PeerOutput.Error} {e.GetType().Name}: {OneLine(e.Message)}");
                return ExitCodes.VerificationFailed;
            }
            if (status != ReadStatus.Success)
            {
                Console.WriteLine($"{PeerOutput.End} status={status}");
                if (count is not null)
                {
                    Console.WriteLine($"{PeerOutput.Error} WriterGone: the writer left after {frames} of {count} frames");
                    return ExitCodes.VerificationFailed;
                }
                break;
            }
            using (frame)
            {
                if (frame.Sequence != previous + 1 && frame.Sequence != 1)
                {
                    Console.WriteLine($"{PeerOutput.Error} SequenceGap: expected {previous + 1} or 1, got {frame.Sequence}");
                    return ExitCodes.VerificationFailed;
                }
                previous = frame.Sequence;
                if (FramePattern.Verify(frame.Span, frame.Sequence) is { } problem)
                {
                    Console.WriteLine($"{PeerOutput.Error} TornFrame: seq={frame.Sequence} len={frame.Length}: {problem}");
                    return ExitCodes.VerificationFailed;
                }
                frames++;
                bytes += frame.Length;
                if (verbose)
                {
                    Console.WriteLine($"{PeerOutput.Frame} seq={frame.Sequence} len={frame.Length}");
                }
            }
        }
        Console.WriteLine($"{PeerOutput.Ok} frames={frames} bytes={bytes}");
        return ExitCodes.Success;
    }

    internal static int Writer(PeerArguments arguments, bool write, CancellationToken stop)
    {
        var options = new WriterOptions
        {
            WaitStrategy = arguments.Enum("strategy", WaitStrategy.SpinThenBlock),
            PeerCheckInterval = TimeSpan.FromMilliseconds(arguments.Number("check-ms") ?? 100),
        };
        Func<ulong, int> lengthOf = LengthChooser(arguments);
        long? count = arguments.Has("forever") ? null : arguments.Number("count") ?? 1;
        bool loan = arguments.Has("loan");
        RingWriter writer;
        try
        {
            writer = new RingWriter(arguments.Name, options);
        }
        catch (Exception e)
        {
            return SetupFailed(e);
        }
        int result = ExitCodes.Success;
        using (writer)
        {
            Console.WriteLine($"{PeerOutput.Connected} pid={Environment.ProcessId}");
            if (write)
            {
                result = WritePatterned(writer, lengthOf, count, loan, stop);
            }
            if (result == ExitCodes.Success && !write)
            {
                stop.WaitHandle.WaitOne();
            }
            else if (result == ExitCodes.Success)
            {
                Hold(arguments, stop);
            }
        }
        return result == ExitCodes.Success ? Bye() : result;
    }

    private static int WritePatterned(RingWriter writer, Func<ulong, int> lengthOf, long? count, bool loan, CancellationToken stop)
    {
        byte[] buffer = [];
        long frames = 0, bytes = 0;
        for (ulong sequence = 1; count is null || frames < count; sequence++)
        {
            int length = lengthOf(sequence);
            WriteStatus status;
            try
            {
                if (loan)
                {
                    status = writer.TryLoan(length, out FrameLoan frameLoan, Timeout.InfiniteTimeSpan, stop);
                    if (status == WriteStatus.Success)
                    {
                        FramePattern.Fill(frameLoan.Span[..length], sequence);
                        frameLoan.Commit(length);
                    }
                }
                else
                {
                    if (buffer.Length < length)
                    {
                        buffer = new byte[length];
                    }
                    FramePattern.Fill(buffer.AsSpan(0, length), sequence);
                    status = writer.TryWrite(buffer.AsSpan(0, length), Timeout.InfiniteTimeSpan, stop);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (status == WriteStatus.ReaderGone)
            {
                Console.WriteLine($"{PeerOutput.ReaderGone} frames={frames}");
                return ExitCodes.ReaderGone;
            }
            frames++;
            bytes += length;
        }
        Console.WriteLine($"{PeerOutput.Written} frames={frames} bytes={bytes}");
        return ExitCodes.Success;
    }

    /// <summary>--size N (fixed), --sizes A,B,.. (cycled by sequence) or --max-size N (varied by sequence); default 1 KiB.</summary>
    private static Func<ulong, int> LengthChooser(PeerArguments arguments)
    {
        if (arguments.Text("sizes") is { } list)
        {
            int[] sizes = list.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            return sequence => sizes[(int)((sequence - 1) % (ulong)sizes.Length)];
        }
        if (arguments.Number("max-size") is { } max)
        {
            return sequence => FramePattern.VariedLength(sequence, (int)max);
        }
        int size = (int)(arguments.Number("size") ?? 1024);
        return _ => size;
    }

    /// <summary>--hold: until stopped; --hold-ms N: until stopped or N milliseconds have passed; neither: not at all.</summary>
    internal static void Hold(PeerArguments arguments, CancellationToken stop)
    {
        if (arguments.Number("hold-ms") is { } milliseconds)
        {
            stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(milliseconds));
        }
        else if (arguments.Has("hold"))
        {
            stop.WaitHandle.WaitOne();
        }
    }

    internal static int SetupFailed(Exception e)
    {
        Console.WriteLine($"{PeerOutput.Error} {e.GetType().Name}: {OneLine(e.Message)}");
        return ExitCodes.SetupFailed;
    }

    internal static int Bye()
    {
        Console.WriteLine(PeerOutput.Bye);
        return ExitCodes.Success;
    }

    internal static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
