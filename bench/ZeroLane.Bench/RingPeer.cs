using System.Diagnostics;
using System.Runtime.CompilerServices;
using ZeroLane.Buffers;
using ZeroLane.Messages;

namespace ZeroLane.Bench;

/// <summary>
/// The four ring roles of the bench, each run in its own process.
/// </summary>
/// <remarks>
/// Design: throughput: the reader creates the buffer; the writer copies frames in from one reused array
/// with <see cref="RingWriter.TryWrite(ReadOnlySpan{byte}, TimeSpan, CancellationToken)"/> (message rows: builds each
/// message anew from its part arrays with one reused <see cref="MessageBuilder"/>, then writes it) for the warm-up,
/// sends a Start control frame, writes for the measured window (with a Half control frame in its middle),
/// sends Stop. The reader reads every frame in place, touches it (<see cref="FrameToucher"/>), releases it,
/// and times the frames between Start and Stop; both measure their own allocations per half of that window
/// (<see cref="WindowMeter"/>). Latency: the echo creates the ping buffer, the
/// initiator creates the pong buffer, connects to ping and says Hello; the echo then connects to pong and
/// answers every frame with a frame of the same size. The initiator times each round trip with one clock
/// read per iteration (one-way = half of it). Hot loops are compiled fully optimised at once
/// (<see cref="MethodImplOptions.AggressiveOptimization"/>) so the measurement does not depend on when tiering
/// reaches them; the warm-up lets the library's own methods tier up.
/// </remarks>
internal static class RingPeer
{
    internal const string CommandName = "bench-peer-ring";

    internal static void Run(PeerOptions options)
    {
        switch (options.Role)
        {
            case PeerOptions.ReaderRole:
                RunReader(options);
                break;
            case PeerOptions.WriterRole:
                RunWriter(options);
                break;
            case PeerOptions.EchoRole:
                RunEcho(options);
                break;
            case PeerOptions.InitiatorRole:
                RunInitiator(options);
                break;
            default:
                throw new ArgumentException($"Unknown ring peer role '{options.Role}'.");
        }
    }

    private static ReaderOptions BufferOptionsFor(PeerOptions options) =>
        new() { PayloadSize = options.PayloadBytes, WaitStrategy = options.Wait };

    private static WriterOptions WriterOptionsFor(PeerOptions options) => new() { WaitStrategy = options.Wait };

    private static void RunReader(PeerOptions options)
    {
        using var reader = new RingReader(options.Name, BufferOptionsFor(options));
        WarmSleepPath(reader);
        PeerChannel.SignalReady();
        ulong checksum = 0;
        bool messages = options.Parts > 0;
        ControlFrame.Expect(ReadUntilControl(reader, options.FrameBytes, messages, ref checksum, out _), ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        ControlFrame.Expect(ReadUntilControl(reader, options.FrameBytes, messages, ref checksum, out long firstHalf), ControlFrame.Half);
        meter.Half(firstHalf);
        byte code = ReadUntilControl(reader, options.FrameBytes, messages, ref checksum, out long secondHalf);
        PeerReport report = meter.Stop(secondHalf, checksum, null);
        ControlFrame.Expect(code, ControlFrame.Stop);

        PeerChannel.Report(report);
    }

    private static void RunWriter(PeerOptions options)
    {
        using var writer = new RingWriter(options.Name, WriterOptionsFor(options));
        byte[] data = new byte[options.FrameBytes];
        FrameToucher.FillPattern(data);
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);
        int checkMask = options.FrameBytes >= 4096 ? 0 : 63;
        byte[][]? parts = options.Parts > 0 ? PartsOfMessage(options.FrameBytes, options.Parts) : null;
        var builder = new MessageBuilder();

        WriteFor(writer, data, parts, builder, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), checkMask);
        WriteOne(writer, control[ControlFrame.Start]);

        var meter = new WindowMeter();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = WriteFor(writer, data, parts, builder, started + PeerChannel.SecondsToTicks(options.Seconds / 2), checkMask);
        WriteOne(writer, control[ControlFrame.Half]);
        meter.Half(firstHalf);
        long secondHalf = WriteFor(writer, data, parts, builder, started + PeerChannel.SecondsToTicks(options.Seconds), checkMask);
        PeerReport report = meter.Stop(secondHalf, 0, null);

        WriteOne(writer, control[ControlFrame.Stop]);
        PeerChannel.Report(report);
    }

    private static void RunEcho(PeerOptions options)
    {
        string replyName = options.ReplyName ?? throw new ArgumentException("The echo needs --reply-name.");
        using var reader = new RingReader(options.Name, BufferOptionsFor(options));
        WarmSleepPath(reader);
        PeerChannel.SignalReady();
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);

        // The initiator creates the reply buffer before it connects here, so its Hello means the reply buffer exists.
        Frame hello = ReadOne(reader);
        byte helloCode = hello.Span[0];
        hello.Dispose();
        ControlFrame.Expect(helloCode, ControlFrame.Hello);
        using var writer = new RingWriter(replyName, WriterOptionsFor(options));
        WriteOne(writer, control[ControlFrame.Hello]);

        byte[] reply = new byte[options.FrameBytes];
        FrameToucher.FillPattern(reply);
        ulong checksum = 0;
        ControlFrame.Expect(EchoUntilControl(reader, writer, reply, ref checksum, out _), ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        WriteOne(writer, control[ControlFrame.Start]);
        ControlFrame.Expect(EchoUntilControl(reader, writer, reply, ref checksum, out long firstHalf), ControlFrame.Half);
        meter.Half(firstHalf);
        WriteOne(writer, control[ControlFrame.Half]);
        byte code = EchoUntilControl(reader, writer, reply, ref checksum, out long secondHalf);
        PeerReport report = meter.Stop(secondHalf, checksum, null);
        ControlFrame.Expect(code, ControlFrame.Stop);
        WriteOne(writer, control[ControlFrame.Stop]);

        PeerChannel.Report(report);
    }

    private static void RunInitiator(PeerOptions options)
    {
        string replyName = options.ReplyName ?? throw new ArgumentException("The initiator needs --reply-name.");
        using var reader = new RingReader(replyName, BufferOptionsFor(options));
        WarmSleepPath(reader);
        using var writer = new RingWriter(options.Name, WriterOptionsFor(options));
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);
        RoundTripControl(writer, reader, control, ControlFrame.Hello);

        byte[] data = new byte[options.FrameBytes];
        FrameToucher.FillPattern(data);
        var samples = new LatencySamples(options.MaxSamples);
        ulong checksum = 0;
        PingFor(writer, reader, data, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), null, ref checksum);
        RoundTripControl(writer, reader, control, ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = PingFor(writer, reader, data, started + PeerChannel.SecondsToTicks(options.Seconds / 2), samples, ref checksum);
        RoundTripControl(writer, reader, control, ControlFrame.Half);
        meter.Half(firstHalf);
        long secondHalf = PingFor(writer, reader, data, started + PeerChannel.SecondsToTicks(options.Seconds), samples, ref checksum);
        PeerReport report = meter.Stop(secondHalf, checksum, null);

        RoundTripControl(writer, reader, control, ControlFrame.Stop);
        PeerChannel.Report(report with { Latency = samples.Summarize(divisor: 2) });
    }

    /// <summary>
    /// Sleeps once on the (still empty) buffer before anything is measured: the first semaphore sleep in a
    /// process allocates once (64 B, seen with .NET 10), which is start-up cost, not steady state.
    /// </summary>
    private static void WarmSleepPath(RingReader reader)
    {
        if (reader.TryRead(out Frame frame, TimeSpan.FromMilliseconds(2)) == ReadStatus.Success)
        {
            throw new InvalidOperationException("A frame arrived before any writer was started.");
        }
    }

    /// <summary>Reads, touches and releases data frames until a control frame arrives; returns its code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte ReadUntilControl(RingReader reader, int frameBytes, bool messages, ref ulong checksum, out long frames)
    {
        long count = 0;
        while (true)
        {
            ReadStatus status = reader.TryRead(out Frame frame, PeerChannel.PollInterval);
            if (status != ReadStatus.Success)
            {
                PeerChannel.OnReadStall(status);
                continue;
            }
            ReadOnlySpan<byte> span = frame.Span;
            if (span.Length != frameBytes)
            {
                byte code = span[0];
                frame.Dispose();
                frames = count;
                return code;
            }
            if (messages)
            {
                // Seen in place and validated, allocating nothing: the parts are spans of the ring frame, released with the view.
                using MessageView message = FrameMessages.ViewFrame(frame, MessageLimits.Default);
                for (int i = 0; i < message.PartCount; i++)
                {
                    checksum += FrameToucher.Touch(message.GetPart(i));
                }
            }
            else
            {
                checksum += FrameToucher.Touch(span);
                frame.Dispose();
            }
            count++;
        }
    }

    /// <summary>Writes data frames until <paramref name="deadline"/>, reading the clock every <paramref name="checkMask"/> + 1 frames.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long WriteFor(RingWriter writer, byte[] data, byte[][]? parts, MessageBuilder builder, long deadline, int checkMask)
    {
        ReadOnlySpan<byte> span = data;
        long frames = 0;
        while (true)
        {
            WriteStatus status = parts is null
                ? writer.TryWrite(span, PeerChannel.PollInterval)
                : BuildAndWrite(writer, builder, parts);
            if (status != WriteStatus.Success)
            {
                PeerChannel.OnWriteStall(status);
                continue;
            }
            frames++;
            if ((frames & checkMask) == 0)
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    return frames;
                }
                if (PeerChannel.ParentGone)
                {
                    PeerChannel.ThrowIfAbandoned();
                }
            }
        }
    }

    /// <summary>
    /// Builds a message of <paramref name="parts"/> with the reused <paramref name="builder"/> (which refills the message it
    /// built last, allocating nothing) and writes it: what a sender that makes a message per frame does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WriteStatus BuildAndWrite(RingWriter writer, MessageBuilder builder, byte[][] parts)
    {
        builder.Reset();
        foreach (byte[] part in parts)
        {
            builder.AddPart(part);
        }
        using Message message = builder.Build();
        return writer.TryWriteMessage(message, PeerChannel.PollInterval);
    }

    /// <summary>
    /// The arrays of a message with an empty body and <paramref name="parts"/> parts, sized so that the whole ring frame
    /// (message header included) is <paramref name="frameBytes"/>: the same bytes per frame as the raw rows, gathered from
    /// separate segments.
    /// </summary>
    private static byte[][] PartsOfMessage(int frameBytes, int parts)
    {
        int payload = frameBytes - MessageEncoding.HeaderSize(parts);
        if (payload < parts)
        {
            throw new ArgumentException($"A frame of {frameBytes} bytes cannot carry a message of {parts} parts.");
        }
        var arrays = new byte[parts][];
        for (int i = 0; i < parts; i++)
        {
            int length = payload / parts + (i == parts - 1 ? payload % parts : 0);
            arrays[i] = new byte[length];
            FrameToucher.FillPattern(arrays[i]);
        }
        return arrays;
    }

    /// <summary>Answers every data frame with <paramref name="reply"/> until a control frame arrives; returns its code (the caller answers it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte EchoUntilControl(RingReader reader, RingWriter writer, byte[] reply, ref ulong checksum, out long frames)
    {
        long count = 0;
        while (true)
        {
            Frame frame = ReadOne(reader);
            ReadOnlySpan<byte> span = frame.Span;
            if (span.Length != reply.Length)
            {
                byte code = span[0];
                frame.Dispose();
                frames = count;
                return code;
            }
            checksum += FrameToucher.Touch(span);
            // Reply first, then release: releasing writes the request ring's counters, which the other side's
            // writer owns; doing it after the reply keeps it off the round trip, as a server answering from the
            // request frame in place would.
            WriteOne(writer, reply);
            frame.Dispose();
            count++;
        }
    }

    /// <summary>Ping-pongs <paramref name="data"/> until <paramref name="deadline"/> (or the sample array is full), recording each round trip.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long PingFor(RingWriter writer, RingReader reader, byte[] data, long deadline, LatencySamples? samples, ref ulong checksum)
    {
        long rounds = 0;
        long previous = Stopwatch.GetTimestamp();
        Frame held = default;
        while (samples is null || !samples.IsFull)
        {
            WriteOne(writer, data);
            // The previous reply is released once the next ping is on its way (off the round trip, see EchoUntilControl).
            held.Dispose();
            Frame reply = ReadOne(reader);
            checksum += FrameToucher.Touch(reply.Span);
            held = reply;
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
                held.Dispose();
                PeerChannel.ThrowIfAbandoned();
            }
        }
        held.Dispose();
        return rounds;
    }

    private static void RoundTripControl(RingWriter writer, RingReader reader, byte[][] control, byte code)
    {
        WriteOne(writer, control[code]);
        Frame answer = ReadOne(reader);
        byte answered = answer.Length == control[code].Length ? answer.Span[0] : byte.MaxValue;
        answer.Dispose();
        ControlFrame.Expect(answered, code);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Frame ReadOne(RingReader reader)
    {
        ReadStatus status;
        Frame frame;
        while ((status = reader.TryRead(out frame, PeerChannel.PollInterval)) != ReadStatus.Success)
        {
            PeerChannel.OnReadStall(status);
        }
        return frame;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteOne(RingWriter writer, ReadOnlySpan<byte> data)
    {
        WriteStatus status;
        while ((status = writer.TryWrite(data, PeerChannel.PollInterval)) != WriteStatus.Success)
        {
            PeerChannel.OnWriteStall(status);
        }
    }
}
