using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace ZeroLane.Bench;

/// <summary>
/// The baseline: the same four roles as <see cref="RingPeer"/> over a Unix domain stream socket.
/// </summary>
/// <remarks>
/// Design: the reader (receiver) and the echo listen on the socket path and are started first; the writer
/// (sender) and initiator connect. Every frame is sent with one <see cref="Socket.Send(ReadOnlySpan{byte})"/>
/// of a reused <c>[length][payload]</c> array (looping only if the kernel takes part of it) and received
/// whole into a reused buffer by <see cref="SocketFrameReceiver"/>, then touched like a ring frame.
/// Start and Stop control frames delimit the measured window exactly as on the ring.
/// </remarks>
internal static class SocketPeer
{
    internal const string CommandName = "bench-peer-socket";

    internal static void Run(PeerOptions options)
    {
        switch (options.Role)
        {
            case PeerOptions.ReaderRole:
                Serve(options, RunReceiver);
                break;
            case PeerOptions.EchoRole:
                Serve(options, RunEcho);
                break;
            case PeerOptions.WriterRole:
                Connect(options, RunSender);
                break;
            case PeerOptions.InitiatorRole:
                Connect(options, RunInitiator);
                break;
            default:
                throw new ArgumentException($"Unknown socket peer role '{options.Role}'.");
        }
    }

    private static void Serve(PeerOptions options, Action<PeerOptions, Socket> role)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(options.Name));
            listener.Listen(1);
            PeerChannel.SignalReady();
            while (!listener.Poll(PeerChannel.PollInterval, SelectMode.SelectRead))
            {
                PeerChannel.ThrowIfAbandoned();
            }
            using Socket connection = listener.Accept();
            SetTimeouts(connection);
            role(options, connection);
        }
        finally
        {
            File.Delete(options.Name);
            if (PeerChannel.ParentGone)
            {
                RemoveEmptyDirectoryOf(options.Name);
            }
        }
    }

    // The parent removes its socket directory when it ends; if it was killed, the last peer out does.
    private static void RemoveEmptyDirectoryOf(string path)
    {
        try
        {
            string? directory = Path.GetDirectoryName(path);
            if (directory is not null && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (IOException)
        {
        }
    }

    private static void Connect(PeerOptions options, Action<PeerOptions, Socket> role)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(options.Name));
        SetTimeouts(socket);
        role(options, socket);
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The partner has already reported and closed its end.
        }
    }

    // A partner that dies leaves the connection closed (a zero-byte receive); the timeouts only bound a hang.
    private static void SetTimeouts(Socket socket)
    {
        int milliseconds = (int)Math.Min(int.MaxValue, PeerChannel.Remaining.TotalMilliseconds + 1);
        socket.ReceiveTimeout = milliseconds;
        socket.SendTimeout = milliseconds;
    }

    private static void RunReceiver(PeerOptions options, Socket socket)
    {
        var receiver = new SocketFrameReceiver(socket, options.FrameBytes);
        ulong checksum = 0;
        ControlFrame.Expect(ReceiveUntilControl(receiver, options.FrameBytes, ref checksum, out _), ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        ControlFrame.Expect(ReceiveUntilControl(receiver, options.FrameBytes, ref checksum, out long firstHalf), ControlFrame.Half);
        meter.Half(firstHalf);
        byte code = ReceiveUntilControl(receiver, options.FrameBytes, ref checksum, out long secondHalf);
        PeerReport report = meter.Stop(secondHalf, checksum, null);
        ControlFrame.Expect(code, ControlFrame.Stop);

        PeerChannel.Report(report);
    }

    private static void RunSender(PeerOptions options, Socket socket)
    {
        byte[] data = CreateFrame(options.FrameBytes);
        byte[][] control = CreateControls(options.FrameBytes);
        int checkMask = options.FrameBytes >= 4096 ? 0 : 63;

        SendFor(socket, data, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), checkMask);
        SendAll(socket, control[ControlFrame.Start]);

        var meter = new WindowMeter();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = SendFor(socket, data, started + PeerChannel.SecondsToTicks(options.Seconds / 2), checkMask);
        SendAll(socket, control[ControlFrame.Half]);
        meter.Half(firstHalf);
        long secondHalf = SendFor(socket, data, started + PeerChannel.SecondsToTicks(options.Seconds), checkMask);
        PeerReport report = meter.Stop(secondHalf, 0, null);

        SendAll(socket, control[ControlFrame.Stop]);
        PeerChannel.Report(report);
    }

    private static void RunEcho(PeerOptions options, Socket socket)
    {
        var receiver = new SocketFrameReceiver(socket, options.FrameBytes);
        byte[] reply = CreateFrame(options.FrameBytes);
        byte[][] control = CreateControls(options.FrameBytes);
        ulong checksum = 0;
        ControlFrame.Expect(EchoUntilControl(receiver, socket, reply, ref checksum, out _), ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        SendAll(socket, control[ControlFrame.Start]);
        ControlFrame.Expect(EchoUntilControl(receiver, socket, reply, ref checksum, out long firstHalf), ControlFrame.Half);
        meter.Half(firstHalf);
        SendAll(socket, control[ControlFrame.Half]);
        byte code = EchoUntilControl(receiver, socket, reply, ref checksum, out long secondHalf);
        PeerReport report = meter.Stop(secondHalf, checksum, null);
        ControlFrame.Expect(code, ControlFrame.Stop);
        SendAll(socket, control[ControlFrame.Stop]);

        PeerChannel.Report(report);
    }

    private static void RunInitiator(PeerOptions options, Socket socket)
    {
        var receiver = new SocketFrameReceiver(socket, options.FrameBytes);
        byte[] data = CreateFrame(options.FrameBytes);
        byte[][] control = CreateControls(options.FrameBytes);
        var samples = new LatencySamples(options.MaxSamples);
        ulong checksum = 0;
        PingFor(socket, receiver, data, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), null, ref checksum);
        RoundTripControl(socket, receiver, control, ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = PingFor(socket, receiver, data, started + PeerChannel.SecondsToTicks(options.Seconds / 2), samples, ref checksum);
        RoundTripControl(socket, receiver, control, ControlFrame.Half);
        meter.Half(firstHalf);
        long secondHalf = PingFor(socket, receiver, data, started + PeerChannel.SecondsToTicks(options.Seconds), samples, ref checksum);
        PeerReport report = meter.Stop(secondHalf, checksum, null);

        RoundTripControl(socket, receiver, control, ControlFrame.Stop);
        PeerChannel.Report(report with { Latency = samples.Summarize(divisor: 2) });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte ReceiveUntilControl(SocketFrameReceiver receiver, int frameBytes, ref ulong checksum, out long frames)
    {
        long count = 0;
        while (true)
        {
            ReadOnlySpan<byte> frame = receiver.Receive();
            if (frame.Length != frameBytes)
            {
                frames = count;
                return frame[0];
            }
            checksum += FrameToucher.Touch(frame);
            count++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long SendFor(Socket socket, byte[] frame, long deadline, int checkMask)
    {
        long frames = 0;
        while (true)
        {
            SendAll(socket, frame);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte EchoUntilControl(SocketFrameReceiver receiver, Socket socket, byte[] reply, ref ulong checksum, out long frames)
    {
        int frameBytes = reply.Length - sizeof(int);
        long count = 0;
        while (true)
        {
            ReadOnlySpan<byte> frame = receiver.Receive();
            if (frame.Length != frameBytes)
            {
                frames = count;
                return frame[0];
            }
            checksum += FrameToucher.Touch(frame);
            SendAll(socket, reply);
            count++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long PingFor(Socket socket, SocketFrameReceiver receiver, byte[] data, long deadline, LatencySamples? samples, ref ulong checksum)
    {
        long rounds = 0;
        long previous = Stopwatch.GetTimestamp();
        while (samples is null || !samples.IsFull)
        {
            SendAll(socket, data);
            checksum += FrameToucher.Touch(receiver.Receive());
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

    private static void RoundTripControl(Socket socket, SocketFrameReceiver receiver, byte[][] control, byte code)
    {
        SendAll(socket, control[code]);
        ReadOnlySpan<byte> answer = receiver.Receive();
        ControlFrame.Expect(answer.Length == control[code].Length - sizeof(int) ? answer[0] : byte.MaxValue, code);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SendAll(Socket socket, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[socket.Send(bytes)..];
        }
    }

    private static byte[] CreateFrame(int frameBytes)
    {
        byte[] frame = new byte[sizeof(int) + frameBytes];
        BinaryPrimitives.WriteInt32LittleEndian(frame, frameBytes);
        FrameToucher.FillPattern(frame.AsSpan(sizeof(int)));
        return frame;
    }

    /// <summary>Every control frame with its length prefix, indexed by code.</summary>
    private static byte[][] CreateControls(int frameBytes) => ControlFrame.CreateAll(frameBytes).Select(control =>
    {
        byte[] frame = new byte[sizeof(int) + control.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, control.Length);
        control.CopyTo(frame.AsSpan(sizeof(int)));
        return frame;
    }).ToArray();
}
