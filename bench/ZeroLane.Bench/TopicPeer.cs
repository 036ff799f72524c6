using System.Diagnostics;
using System.Runtime.CompilerServices;
using ZeroLane.Topics;

namespace ZeroLane.Bench;

/// <summary>
/// The four topic roles of the bench (part <c>topics</c>), each run in its own process: publisher and subscriber
/// (throughput, one publisher to one or more subscribers), echo and initiator (latency, ping-pong over two topics).
/// </summary>
/// <remarks>
/// Design: as <see cref="RingPeer"/>, with topics in place of rings. Throughput: the subscribers start first (a topic has
/// no creator; the order only lets the publisher wait for them); the publisher waits until all
/// <see cref="PeerOptions.Subscribers"/> have joined, then sends for the warm-up, a Start control sample, the measured
/// window (with a Half control sample in its middle) and Stop. Every subscriber reads each sample in place, touches it
/// (<see cref="FrameToucher"/>), releases it, and counts the samples between Start and Stop. Subscribers ask to block the
/// publisher (<see cref="OverflowPolicy.BlockPublisher"/>) and the acknowledge timeout is long, so a healthy run drops
/// nothing, like the ring, which never drops: the rate is what every subscriber really received. The publisher copies
/// each sample in (<see cref="Publisher.TryWrite(ReadOnlySpan{byte}, TimeSpan, CancellationToken)"/>, as the ring's writer
/// does), or, with <see cref="PeerOptions.Writer"/>, sends through a payload writer that changes one byte of the sample
/// per send: <c>modified</c> writes that byte (<see cref="IPayloadWriter.WriteModified"/>) when the library says the slot
/// holds the previous sample, <c>full</c> copies the whole sample in every time. Latency: the echo subscribes to the ping
/// topic and publishes on the pong topic; the initiator the other way round; one way = half of each timed round trip.
/// Both sides measure their own allocations per half of the window (<see cref="WindowMeter"/>).
/// </remarks>
internal static class TopicPeer
{
    internal const string CommandName = "bench-peer-topic";

    /// <summary>How long a write may wait for a subscriber to take a sample before the library drops one: long, so none is.</summary>
    private static readonly TimeSpan s_acknowledgeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a participant waits for the others to join before giving up.</summary>
    private static readonly TimeSpan s_joinTimeout = TimeSpan.FromSeconds(30);

    internal static void Run(PeerOptions options)
    {
        switch (options.Role)
        {
            case PeerOptions.SubscriberRole:
                RunSubscriber(options);
                break;
            case PeerOptions.PublisherRole:
                RunPublisher(options);
                break;
            case PeerOptions.EchoRole:
                RunEcho(options);
                break;
            case PeerOptions.InitiatorRole:
                RunInitiator(options);
                break;
            default:
                throw new ArgumentException($"Unknown topic peer role '{options.Role}'.");
        }
    }

    /// <summary>
    /// Samples each subscriber's queue holds: about as many bytes as the ring's payload block, from the library's default
    /// of 4 up to 128 (small samples).
    /// </summary>
    internal static int QueueDepthFor(int frameBytes) => (int)Math.Clamp(BenchSettings.PayloadBytesFor(frameBytes) / frameBytes, 4, 128);

    /// <summary>Slots: every queue full plus samples held and the one being written.</summary>
    internal static int SlotsFor(int frameBytes) => 2 * QueueDepthFor(frameBytes);

    /// <summary>
    /// Payload-writer rows publish through one slot: each write then waits until the subscriber has released the previous
    /// sample, so the slot always holds it, the one condition under which the library may call WriteModified (a publisher
    /// that runs ahead of its subscriber finds the previous sample's slot still queued and must write a whole one).
    /// </summary>
    internal const int WriterSlots = 1;

    private static PublisherOptions PublisherOptionsFor(PeerOptions options) => new()
    {
        MaxSampleSize = options.FrameBytes,
        Slots = options.Writer is null ? SlotsFor(options.FrameBytes) : WriterSlots,
        QueueDepth = options.Writer is null ? QueueDepthFor(options.FrameBytes) : WriterSlots,
        AcknowledgeTimeout = s_acknowledgeTimeout,
        WaitStrategy = options.Wait,
    };

    private static SubscriberOptions SubscriberOptionsFor(PeerOptions options) => new()
    {
        Overflow = OverflowPolicy.BlockPublisher,
        WaitStrategy = options.Wait,
    };

    private static void RunSubscriber(PeerOptions options)
    {
        using var subscriber = new Subscriber(options.Name, SubscriberOptionsFor(options));
        WarmSleepPath(subscriber);
        PeerChannel.SignalReady();
        ulong checksum = 0;
        ControlFrame.Expect(ReadUntilControl(subscriber, options.FrameBytes, ref checksum, out _), ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        ControlFrame.Expect(ReadUntilControl(subscriber, options.FrameBytes, ref checksum, out long firstHalf), ControlFrame.Half);
        meter.Half(firstHalf);
        byte code = ReadUntilControl(subscriber, options.FrameBytes, ref checksum, out long secondHalf);
        PeerReport report = meter.Stop(secondHalf, checksum, null);
        ControlFrame.Expect(code, ControlFrame.Stop);

        PeerChannel.Report(report with { Dropped = subscriber.SamplesDropped });
    }

    private static void RunPublisher(PeerOptions options)
    {
        using var publisher = new Publisher(options.Name, PublisherOptionsFor(options));
        WaitForSubscribers(publisher, Math.Max(1, options.Subscribers));
        byte[] data = new byte[options.FrameBytes];
        FrameToucher.FillPattern(data);
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);
        int checkMask = options.FrameBytes >= 4096 ? 0 : 63;
        OneByteChange? writer = options.Writer switch
        {
            null => null,
            BenchResult.FullWriter => new OneByteChange(data, inPlace: false),
            BenchResult.ModifiedWriter => new OneByteChange(data, inPlace: true),
            _ => throw new ArgumentException($"--writer takes {BenchResult.FullWriter} or {BenchResult.ModifiedWriter}, not '{options.Writer}'."),
        };

        WriteFor(publisher, data, writer, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), checkMask);
        WriteOne(publisher, control[ControlFrame.Start]);

        var meter = new WindowMeter();
        writer?.ResetTime();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = WriteFor(publisher, data, writer, started + PeerChannel.SecondsToTicks(options.Seconds / 2), checkMask);
        WriteOne(publisher, control[ControlFrame.Half]);
        meter.Half(firstHalf);
        long secondHalf = WriteFor(publisher, data, writer, started + PeerChannel.SecondsToTicks(options.Seconds), checkMask);
        PeerReport report = meter.Stop(secondHalf, 0, null);

        WriteOne(publisher, control[ControlFrame.Stop]);
        PeerChannel.Report(report with
        {
            FullWrites = publisher.FullWrites, ModifiedWrites = publisher.ModifiedWrites, WriterNsPerSend = writer?.NanosecondsPerCall ?? 0,
        });
    }

    private static void RunEcho(PeerOptions options)
    {
        string replyName = options.ReplyName ?? throw new ArgumentException("The echo needs --reply-name.");
        using var subscriber = new Subscriber(options.Name, SubscriberOptionsFor(options));
        using var publisher = new Publisher(replyName, PublisherOptionsFor(options));
        WarmSleepPath(subscriber);
        PeerChannel.SignalReady();
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);

        // The initiator subscribes to the reply topic before it says Hello, and the echo waits until it has joined.
        Sample hello = ReadOne(subscriber);
        byte helloCode = hello.Span[0];
        hello.Dispose();
        ControlFrame.Expect(helloCode, ControlFrame.Hello);
        WaitForSubscribers(publisher, 1);
        WriteOne(publisher, control[ControlFrame.Hello]);

        byte[] reply = new byte[options.FrameBytes];
        FrameToucher.FillPattern(reply);
        ulong checksum = 0;
        ControlFrame.Expect(EchoUntilControl(subscriber, publisher, reply, ref checksum, out _), ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        WriteOne(publisher, control[ControlFrame.Start]);
        ControlFrame.Expect(EchoUntilControl(subscriber, publisher, reply, ref checksum, out long firstHalf), ControlFrame.Half);
        meter.Half(firstHalf);
        WriteOne(publisher, control[ControlFrame.Half]);
        byte code = EchoUntilControl(subscriber, publisher, reply, ref checksum, out long secondHalf);
        PeerReport report = meter.Stop(secondHalf, checksum, null);
        ControlFrame.Expect(code, ControlFrame.Stop);
        WriteOne(publisher, control[ControlFrame.Stop]);

        PeerChannel.Report(report with { Dropped = subscriber.SamplesDropped });
    }

    private static void RunInitiator(PeerOptions options)
    {
        string replyName = options.ReplyName ?? throw new ArgumentException("The initiator needs --reply-name.");
        using var subscriber = new Subscriber(replyName, SubscriberOptionsFor(options));
        WarmSleepPath(subscriber);
        using var publisher = new Publisher(options.Name, PublisherOptionsFor(options));
        WaitForSubscribers(publisher, 1);
        byte[][] control = ControlFrame.CreateAll(options.FrameBytes);
        RoundTripControl(publisher, subscriber, control, ControlFrame.Hello);

        byte[] data = new byte[options.FrameBytes];
        FrameToucher.FillPattern(data);
        var samples = new LatencySamples(options.MaxSamples);
        ulong checksum = 0;
        PingFor(publisher, subscriber, data, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(options.WarmupSeconds), null, ref checksum);
        RoundTripControl(publisher, subscriber, control, ControlFrame.Start);

        var meter = new WindowMeter();
        meter.Start();
        long started = Stopwatch.GetTimestamp();
        long firstHalf = PingFor(publisher, subscriber, data, started + PeerChannel.SecondsToTicks(options.Seconds / 2), samples, ref checksum);
        RoundTripControl(publisher, subscriber, control, ControlFrame.Half);
        meter.Half(firstHalf);
        long secondHalf = PingFor(publisher, subscriber, data, started + PeerChannel.SecondsToTicks(options.Seconds), samples, ref checksum);
        PeerReport report = meter.Stop(secondHalf, checksum, null);

        RoundTripControl(publisher, subscriber, control, ControlFrame.Stop);
        PeerChannel.Report(report with { Latency = samples.Summarize(divisor: 2), Dropped = subscriber.SamplesDropped });
    }

    /// <summary>Waits until <paramref name="count"/> subscribers have joined the publisher (they join as soon as they see it).</summary>
    private static void WaitForSubscribers(Publisher publisher, int count)
    {
        long deadline = Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(s_joinTimeout.TotalSeconds);
        while (publisher.SubscriberCount < count)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException(
                    $"Only {publisher.SubscriberCount} of {count} subscribers joined topic '{publisher.Topic}' within {s_joinTimeout.TotalSeconds:0} s.");
            }
            PeerChannel.ThrowIfAbandoned();
            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// Waits once on the (still empty) topic before anything is measured: the first semaphore sleep in a process allocates
    /// once, which is start-up cost, not steady state (see <see cref="RingPeer"/>).
    /// </summary>
    private static void WarmSleepPath(Subscriber subscriber)
    {
        if (subscriber.TryRead(out Sample sample, TimeSpan.FromMilliseconds(2)) == ReadStatus.Success)
        {
            sample.Dispose();
            throw new InvalidOperationException("A sample arrived before any publisher was started.");
        }
    }

    /// <summary>Reads, touches and releases data samples until a control sample arrives; returns its code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte ReadUntilControl(Subscriber subscriber, int frameBytes, ref ulong checksum, out long frames)
    {
        long count = 0;
        while (true)
        {
            ReadStatus status = subscriber.TryRead(out Sample sample, PeerChannel.PollInterval);
            if (status != ReadStatus.Success)
            {
                PeerChannel.OnReadStall(status);
                continue;
            }
            ReadOnlySpan<byte> span = sample.Span;
            if (span.Length != frameBytes)
            {
                byte code = span[0];
                sample.Dispose();
                frames = count;
                return code;
            }
            checksum += FrameToucher.Touch(span);
            sample.Dispose();
            count++;
        }
    }

    /// <summary>Sends data samples until <paramref name="deadline"/>, reading the clock every <paramref name="checkMask"/> + 1 samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long WriteFor(Publisher publisher, byte[] data, OneByteChange? writer, long deadline, int checkMask)
    {
        ReadOnlySpan<byte> span = data;
        long frames = 0;
        while (true)
        {
            WriteStatus status;
            if (writer is null)
            {
                status = publisher.TryWrite(span, s_acknowledgeTimeout);
            }
            else
            {
                writer.Next();
                status = publisher.TryWrite(writer, out _, s_acknowledgeTimeout);
            }
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

    /// <summary>Answers every data sample with <paramref name="reply"/> until a control sample arrives; returns its code (the caller answers it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte EchoUntilControl(Subscriber subscriber, Publisher publisher, byte[] reply, ref ulong checksum, out long frames)
    {
        long count = 0;
        while (true)
        {
            Sample sample = ReadOne(subscriber);
            ReadOnlySpan<byte> span = sample.Span;
            if (span.Length != reply.Length)
            {
                byte code = span[0];
                sample.Dispose();
                frames = count;
                return code;
            }
            checksum += FrameToucher.Touch(span);
            // Reply first, then release (as the ring's echo: the release stays off the round trip).
            WriteOne(publisher, reply);
            sample.Dispose();
            count++;
        }
    }

    /// <summary>Ping-pongs <paramref name="data"/> until <paramref name="deadline"/> (or the sample array is full), recording each round trip.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long PingFor(Publisher publisher, Subscriber subscriber, byte[] data, long deadline, LatencySamples? samples, ref ulong checksum)
    {
        long rounds = 0;
        long previous = Stopwatch.GetTimestamp();
        Sample held = default;
        while (samples is null || !samples.IsFull)
        {
            WriteOne(publisher, data);
            // The previous reply is released once the next ping is on its way (off the round trip, as in the ring's rows).
            held.Dispose();
            Sample reply = ReadOne(subscriber);
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

    private static void RoundTripControl(Publisher publisher, Subscriber subscriber, byte[][] control, byte code)
    {
        WriteOne(publisher, control[code]);
        Sample answer = ReadOne(subscriber);
        byte answered = answer.Length == control[code].Length ? answer.Span[0] : byte.MaxValue;
        answer.Dispose();
        ControlFrame.Expect(answered, code);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Sample ReadOne(Subscriber subscriber)
    {
        ReadStatus status;
        Sample sample;
        while ((status = subscriber.TryRead(out sample, PeerChannel.PollInterval)) != ReadStatus.Success)
        {
            PeerChannel.OnReadStall(status);
        }
        return sample;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteOne(Publisher publisher, ReadOnlySpan<byte> data)
    {
        WriteStatus status;
        while ((status = publisher.TryWrite(data, s_acknowledgeTimeout)) != WriteStatus.Success)
        {
            PeerChannel.OnWriteStall(status);
        }
    }

    /// <summary>
    /// A payload writer whose every sample differs from the previous one in one byte (the first, which every subscriber's
    /// touch reads). In place it writes only that byte when the library hands it the previous sample; otherwise, or when
    /// not <c>inPlace</c>, it copies the whole sample in.
    /// </summary>
    private sealed class OneByteChange : IPayloadWriter
    {
        private readonly byte[] _sample;
        private readonly bool _inPlace;

        internal OneByteChange(byte[] sample, bool inPlace)
        {
            _sample = sample;
            _inPlace = inPlace;
        }

        /// <summary>Makes the next sample: the changed byte.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void Next() => _sample[0]++;

        public int GetSize() => _sample.Length;

        /// <summary>Mean time spent writing a sample (in WriteFull or WriteModified) since <see cref="ResetTime"/>.</summary>
        internal double NanosecondsPerCall => _calls == 0 ? 0 : _ticks * 1e9 / Stopwatch.Frequency / _calls;

        internal void ResetTime() => (_ticks, _calls) = (0, 0);

        private long _ticks;
        private long _calls;

        public bool WriteFull(Span<byte> buffer)
        {
            long start = Stopwatch.GetTimestamp();
            _sample.CopyTo(buffer);
            _ticks += Stopwatch.GetTimestamp() - start;
            _calls++;
            return true;
        }

        public bool WriteModified(Span<byte> buffer)
        {
            if (!_inPlace)
            {
                return WriteFull(buffer);
            }
            long start = Stopwatch.GetTimestamp();
            buffer[0] = _sample[0];
            _ticks += Stopwatch.GetTimestamp() - start;
            _calls++;
            return true;
        }
    }
}
