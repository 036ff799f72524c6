using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using ZeroLane.Buffers;
using ZeroLane.Duplex;

namespace ZeroLane.Bench;

/// <summary>
/// The three duplex-channel roles of the bench, each run in its own process: the server (role echo), the client timing
/// round trips (role initiator) and the client keeping several requests in flight (role writer).
/// </summary>
/// <remarks>
/// Design: the server creates channel NAME (<see cref="DuplexServer"/>, whose own thread reads the requests and runs the
/// handler) and says ready; its handler answers every request with the request's own bytes: the echo handler returns
/// <c>request.Span</c> (the server copies it into the response frame), the loan handler (<c>--writer loan</c>) writes it
/// into the response loan. Data requests are touched as the ring's echo touches its frames (<see cref="FrameToucher"/>).
/// The client sends the same in-band control frames as the ring's peers (<see cref="ControlFrame"/>: a length no data
/// request has), as requests, which the server echoes like any other: Hello (the server connects to the response ring),
/// Start, Half, Stop. Because the handler runs on the serving thread, the handler itself measures that thread's
/// allocations over the window (a <see cref="WindowMeter"/> started by Start, halved by Half, stopped by Stop), so the
/// server's figure is the serving thread's, library included. The round-trip client times each
/// <see cref="DuplexClient.Request"/> with one clock read per call, exactly as the ring's initiator times its ping-pong,
/// and reports the whole round trip (divisor 1). The pipelining client keeps <see cref="PeerOptions.InFlight"/> requests
/// in flight with <see cref="DuplexClient.SendRequest"/> and <see cref="DuplexClient.ReceiveResponse"/>, draining them
/// before each control request. Both rings are sized so that every request in flight and its response fit at once (see
/// <see cref="BenchRunner"/>), so a client that is sending never waits for a server that waits for it.
/// </remarks>
internal static class DuplexPeer
{
    internal const string CommandName = "bench-peer-duplex";

    /// <summary>The server's <c>--writer</c> value that selects the loan handler.</summary>
    internal const string LoanHandler = "loan";

    internal static void Run(PeerOptions options)
    {
        switch (options.Role)
        {
            case PeerOptions.EchoRole:
                RunServer(options);
                break;
            case PeerOptions.InitiatorRole:
                RunRoundTrips(options);
                break;
            case PeerOptions.WriterRole:
                RunPipelined(options);
                break;
            default:
                throw new ArgumentException($"Unknown duplex peer role '{options.Role}'.");
        }
    }

    private static void RunServer(PeerOptions options)
    {
        var window = new ServerWindow(options.FrameBytes);
        var serverOptions = new DuplexServerOptions
        {
            RequestRing = new ReaderOptions { PayloadSize = options.PayloadBytes, WaitStrategy = options.Wait },
            ResponseWriter = new WriterOptions { WaitStrategy = options.Wait },
            // A loan as large as the largest answer (the control frames are shorter than data frames, except at 1 byte).
            ResponseLoanLength = Math.Max(options.FrameBytes, ControlFrame.LengthFor(options.FrameBytes)),
        };
        using DuplexServer server = options.Writer switch
        {
            null => new DuplexServer(options.Name, window.Answer, serverOptions),
            LoanHandler => new DuplexServer(options.Name, window.AnswerInPlace, serverOptions),
            _ => throw new ArgumentException($"The duplex server takes --writer {LoanHandler} or none, not '{options.Writer}'."),
        };
        PeerChannel.SignalReady();
        while (!window.Stopped.Wait(PeerChannel.PollInterval))
        {
            if (server.Fault is { } fault)
            {
                throw new InvalidOperationException("The duplex server stopped: " + fault.Message, fault);
            }
            if (window.Failure is { } failure)
            {
                throw new InvalidOperationException("The duplex handler failed: " + failure.Message, failure);
            }
            PeerChannel.ThrowIfAbandoned();
        }
        PeerChannel.Report(window.Report!);
        // Disposing lets the Stop request (whose handler call set Stopped) be answered before the server ends.
    }

    private static DuplexClient Connect(PeerOptions options) => DuplexClient.Connect(
        options.Name,
        PeerChannel.Remaining,
        new DuplexClientOptions
        {
            ResponseRing = new ReaderOptions { PayloadSize = options.PayloadBytes, WaitStrategy = options.Wait },
            RequestWriter = new WriterOptions { WaitStrategy = options.Wait },
        });

    /// <summary>The timeout of every call: the peer's overall deadline (a server that stops answering fails the run there).</summary>
    private static TimeSpan CallTimeout() => PeerChannel.Remaining;

    private static void RunRoundTrips(PeerOptions options)
    {
        using DuplexClient client = Connect(options);
        TimeSpan timeout = CallTimeout();
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);
        RoundTripControl(client, control, ControlFrame.Hello, timeout);

        byte[] data = new byte[options.FrameBytes];
        FrameToucher.FillPattern(data);
        var samples = new LatencySamples(options.MaxSamples);
        ulong checksum = 0;
        RequestFor(client, data, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), null, timeout, ref checksum);
        RoundTripControl(client, control, ControlFrame.Start, timeout);

        var meter = new WindowMeter();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = RequestFor(client, data, started + PeerChannel.SecondsToTicks(options.Seconds / 2), samples, timeout, ref checksum);
        RoundTripControl(client, control, ControlFrame.Half, timeout);
        meter.Half(firstHalf);
        long secondHalf = RequestFor(client, data, started + PeerChannel.SecondsToTicks(options.Seconds), samples, timeout, ref checksum);
        PeerReport report = meter.Stop(secondHalf, checksum, null);

        RoundTripControl(client, control, ControlFrame.Stop, timeout);
        // The whole round trip: a duplex call is one request and its response, nothing to halve.
        PeerChannel.Report(report with { Latency = samples.Summarize(divisor: 1) });
    }

    private static void RunPipelined(PeerOptions options)
    {
        if (options.InFlight < 1)
        {
            throw new ArgumentException("The pipelining duplex client needs --in-flight 1 or more.");
        }
        using DuplexClient client = Connect(options);
        TimeSpan timeout = CallTimeout();
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);
        RoundTripControl(client, control, ControlFrame.Hello, timeout);

        byte[] data = new byte[options.FrameBytes];
        FrameToucher.FillPattern(data);
        int checkMask = options.FrameBytes >= 4096 ? 0 : 63;
        ulong checksum = 0;
        PipelineFor(client, data, options.InFlight, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), checkMask, timeout, ref checksum);
        RoundTripControl(client, control, ControlFrame.Start, timeout);

        var meter = new WindowMeter();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = PipelineFor(client, data, options.InFlight, started + PeerChannel.SecondsToTicks(options.Seconds / 2), checkMask, timeout, ref checksum);
        RoundTripControl(client, control, ControlFrame.Half, timeout);
        meter.Half(firstHalf);
        long secondHalf = PipelineFor(client, data, options.InFlight, started + PeerChannel.SecondsToTicks(options.Seconds), checkMask, timeout, ref checksum);
        PeerReport report = meter.Stop(secondHalf, checksum, null);

        RoundTripControl(client, control, ControlFrame.Stop, timeout);
        PeerChannel.Report(report);
    }

    /// <summary>Calls <see cref="DuplexClient.Request"/> until <paramref name="deadline"/> (or the sample array is full), recording each round trip.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long RequestFor(DuplexClient client, byte[] data, long deadline, LatencySamples? samples, TimeSpan timeout, ref ulong checksum)
    {
        long rounds = 0;
        long previous = Stopwatch.GetTimestamp();
        while (samples is null || !samples.IsFull)
        {
            Frame response = client.Request(data, timeout);
            checksum += FrameToucher.Touch(response.Span);
            response.Dispose();
            long now = Stopwatch.GetTimestamp();
            samples?.Add(now - previous);
            previous = now;
            rounds++;
            if (now >= deadline)
            {
                break;
            }
            if (PeerChannel.ParentGone)
            {
                PeerChannel.ThrowIfAbandoned();
            }
        }
        return rounds;
    }

    /// <summary>
    /// Sends <paramref name="inFlight"/> requests, then answers each response received with a new request until
    /// <paramref name="deadline"/>, then receives the ones still in flight; returns the responses received.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long PipelineFor(DuplexClient client, byte[] data, int inFlight, long deadline, int checkMask, TimeSpan timeout, ref ulong checksum)
    {
        ulong oldest = client.SendRequest(data, timeout);
        for (int i = 1; i < inFlight; i++)
        {
            client.SendRequest(data, timeout);
        }
        long responses = 0;
        while (true)
        {
            Frame response = client.ReceiveResponse(oldest++, timeout);
            checksum += FrameToucher.Touch(response.Span);
            response.Dispose();
            responses++;
            if ((responses & checkMask) == 0)
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    break;
                }
                if (PeerChannel.ParentGone)
                {
                    PeerChannel.ThrowIfAbandoned();
                }
            }
            client.SendRequest(data, timeout);
        }
        // The request answered last was not replaced: inFlight - 1 are still on their way.
        for (int i = 1; i < inFlight; i++)
        {
            Frame response = client.ReceiveResponse(oldest++, timeout);
            checksum += FrameToucher.Touch(response.Span);
            response.Dispose();
            responses++;
        }
        return responses;
    }

    private static void RoundTripControl(DuplexClient client, byte[][] control, byte code, TimeSpan timeout)
    {
        Frame answer = client.Request(control[code], timeout);
        byte answered = answer.Length == control[code].Length ? answer.Span[0] : byte.MaxValue;
        answer.Dispose();
        ControlFrame.Expect(answered, code);
    }

    /// <summary>
    /// The server's handlers and what they measure: they run on the server's own thread, so the window's allocation figures
    /// are that thread's. Written by that thread only; <see cref="Stopped"/> hands the report to the main thread.
    /// </summary>
    private sealed class ServerWindow(int frameBytes)
    {
        private WindowMeter _meter;
        private long _requests;
        private ulong _checksum;
        private bool _started;

        /// <summary>Set once the Stop request was handled: <see cref="Report"/> is final.</summary>
        internal ManualResetEventSlim Stopped { get; } = new();

        internal PeerReport? Report { get; private set; }

        /// <summary>What made the handler fail (out-of-step control requests), for the main thread to report.</summary>
        internal Exception? Failure { get; private set; }

        /// <summary>The echo handler: the response is the request itself, copied into the response frame by the server.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal ReadOnlySpan<byte> Answer(Frame request)
        {
            ReadOnlySpan<byte> span = request.Span;
            See(span);
            return span;
        }

        /// <summary>The loan handler: the response is the request itself, written into the response ring's loan.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal void AnswerInPlace(Frame request, IBufferWriter<byte> response)
        {
            ReadOnlySpan<byte> span = request.Span;
            See(span);
            response.Write(span);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void See(ReadOnlySpan<byte> request)
        {
            if (request.Length == frameBytes)
            {
                _checksum += FrameToucher.Touch(request);
                _requests++;
            }
            else
            {
                Control(request[0]);
            }
        }

        private void Control(byte code)
        {
            try
            {
                switch (code)
                {
                    case ControlFrame.Hello:
                        break;
                    case ControlFrame.Start:
                        _started = true;
                        _requests = 0;
                        _meter.Start();
                        break;
                    case ControlFrame.Half:
                        ControlFrame.Expect(_started ? code : ControlFrame.Hello, ControlFrame.Half);
                        _meter.Half(_requests);
                        _requests = 0;
                        break;
                    case ControlFrame.Stop:
                        ControlFrame.Expect(_started ? code : ControlFrame.Hello, ControlFrame.Stop);
                        Report = _meter.Stop(_requests, _checksum, null);
                        Stopped.Set();
                        break;
                    default:
                        ControlFrame.Expect(code, ControlFrame.Stop);
                        break;
                }
            }
            catch (InvalidOperationException e)
            {
                Failure = e;
            }
        }
    }
}
