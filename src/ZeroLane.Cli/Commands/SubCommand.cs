using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ZeroLane.Cli.Demo;
using ZeroLane.Cli.Output;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane sub TOPIC</c>: subscribes to a topic and writes each sample's bytes, back to back, to standard output or a
/// file, until <c>--count</c> samples arrived or the last publisher left; with <c>--hz</c>, a line per second with the rate
/// and the latency from each sample's send time.
/// </summary>
internal static class SubCommand
{
    private static readonly TimeSpan s_reportInterval = TimeSpan.FromSeconds(1);

    private sealed record Settings(
        string Topic, string? OutPath, long? Count, bool Hz, OverflowPolicy Overflow, TimeSpan? Timeout, WaitStrategy Wait);

    internal static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "The topic's name: 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'." };
        var output = new Option<string?>("--out", "-o") { Description = "Write the samples to this file instead of standard output.", HelpName = "file" };
        var count = new Option<long?>("--count", "-n") { Description = "Stop after this many samples.", HelpName = "n" };
        var hz = new Option<bool>("--hz") { Description = "Print a line per second: samples/s, bytes/s, latency from the publisher's send time, drops. The samples themselves go to --out only." };
        var overflow = new Option<string>("--overflow")
        {
            Description = "When this subscriber's queue is full: 'drop' its oldest sample (the publisher never waits), or 'block' the publisher (up to its --ack-timeout).",
            DefaultValueFactory = _ => "drop",
            HelpName = "drop|block",
        };
        overflow.AcceptOnlyFromAmong("drop", "block");
        var timeout = new Option<double?>("--timeout") { Description = "Give up (exit code 1) when no sample arrives for this many seconds. Default: wait forever.", HelpName = "seconds" };
        Option<string> wait = CommonOptions.CreateWaitOption();
        var command = new Command("sub", "Subscribe to a topic; write each sample's bytes to standard output or a file, or print rate and latency with --hz.")
        {
            topic, output, count, hz, overflow, timeout, wait,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            long? samples = parseResult.GetValue(count);
            double? seconds = parseResult.GetValue(timeout);
            CliErrors.Require(samples is null or >= 1, "--count must be at least 1.");
            CliErrors.Require(seconds is null or (> 0 and < 1e9), "--timeout must be a positive number of seconds.");
            return Task.FromResult(Run(
                new Settings(parseResult.GetValue(topic)!, parseResult.GetValue(output), samples, parseResult.GetValue(hz),
                    parseResult.GetValue(overflow) == "block" ? OverflowPolicy.BlockPublisher : OverflowPolicy.DropOldest,
                    seconds is { } s ? TimeSpan.FromSeconds(s) : null, CommonOptions.ParseWait(parseResult.GetValue(wait))),
                cancellationToken));
        });
        return command;
    }

    private static int Run(Settings settings, CancellationToken cancellationToken)
    {
        using var subscriber = new Subscriber(settings.Topic, new SubscriberOptions { Overflow = settings.Overflow, WaitStrategy = settings.Wait });
        bool interactive = !Console.IsErrorRedirected;
        if (interactive)
        {
            Console.Error.Write($"Subscribed to topic '{subscriber.Topic}' as subscriber {subscriber.Id:x16}; waiting for samples. Ctrl+C to stop.\n");
        }
        Stream? sink = settings.OutPath is not null
            ? new FileStream(settings.OutPath, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024)
            : settings.Hz ? null : new BufferedStream(Console.OpenStandardOutput(), 64 * 1024);
        using (sink)
        {
            var meter = new RateMeter();
            long received = 0;
            long bytes = 0;
            int exitCode = 0;
            long deadline = DeadlineAfter(settings.Timeout);
            long nextReport = Stopwatch.GetTimestamp() + (long)(s_reportInterval.TotalSeconds * Stopwatch.Frequency);
            while (settings.Count is null || received < settings.Count)
            {
                // Nothing waiting: what was written so far goes out before this subscriber sleeps.
                ReadStatus status = subscriber.TryRead(out Sample sample, TimeSpan.Zero, cancellationToken);
                if (status == ReadStatus.TimedOut)
                {
                    sink?.Flush();
                    status = subscriber.TryRead(out sample, WaitFor(deadline, settings.Hz ? nextReport : long.MaxValue), cancellationToken);
                }
                if (status == ReadStatus.Success)
                {
                    using (sample)
                    {
                        if (settings.Hz)
                        {
                            meter.Add(sample.Length, DateTime.UtcNow, sample.TimestampNanoseconds);
                        }
                        sink?.Write(sample.Span);
                        bytes += sample.Length;
                    }
                    received++;
                    deadline = DeadlineAfter(settings.Timeout);
                }
                else if (status == ReadStatus.WriterDied)
                {
                    Console.Error.Write($"zerolane: a publisher of topic '{settings.Topic}' died without leaving; what it sent may be incomplete.\n");
                    exitCode = CliErrors.ExitCode;
                    if (subscriber.PublisherCount == 0)
                    {
                        break;
                    }
                }
                else if (status == ReadStatus.WriterDisconnected)
                {
                    break;
                }
                else if (status == ReadStatus.TimedOut && Stopwatch.GetTimestamp() >= deadline)
                {
                    throw new TimeoutException($"no sample arrived on topic '{settings.Topic}' within {settings.Timeout!.Value.TotalSeconds:0.###} s.");
                }
                if (settings.Hz && Stopwatch.GetTimestamp() >= nextReport)
                {
                    Console.Out.Write(meter.Line(subscriber.SamplesDropped) + "\n");
                    Console.Out.Flush();
                    nextReport += (long)(s_reportInterval.TotalSeconds * Stopwatch.Frequency);
                }
            }
            sink?.Flush();
            if (settings.Hz && meter.HasUnreported)
            {
                Console.Out.Write(meter.Line(subscriber.SamplesDropped) + "\n");
            }
            if (interactive)
            {
                Console.Error.Write($"Received {Units.Count(received)} samples, {Units.Count(bytes)} bytes; {Units.Count(subscriber.SamplesDropped)} dropped.\n");
            }
            return exitCode;
        }
    }

    private static long DeadlineAfter(TimeSpan? timeout) =>
        timeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

    /// <summary>Until the earlier of two Stopwatch deadlines (long.MaxValue = none).</summary>
    private static TimeSpan WaitFor(long deadline, long report)
    {
        long until = Math.Min(deadline, report);
        if (until == long.MaxValue)
        {
            return Timeout.InfiniteTimeSpan;
        }
        long ticks = until - Stopwatch.GetTimestamp();
        return ticks <= 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, ticks);
    }

    /// <summary>Samples, bytes and latencies since the last line; allocation-free per sample.</summary>
    private sealed class RateMeter
    {
        private readonly LatencyHistogram _latency = new();
        private long _windowStart = Stopwatch.GetTimestamp();
        private long _samples;
        private long _bytes;

        internal bool HasUnreported => _samples > 0;

        internal void Add(int length, DateTime now, long sentNanoseconds)
        {
            long nowNanoseconds = (now.Ticks - DateTime.UnixEpoch.Ticks) * 100;
            _latency.Record(nowNanoseconds - sentNanoseconds);
            _samples++;
            _bytes += length;
        }

        /// <summary>The line for the window since the previous one, which it closes.</summary>
        internal string Line(long dropped)
        {
            long now = Stopwatch.GetTimestamp();
            double seconds = Math.Max(Stopwatch.GetElapsedTime(_windowStart, now).TotalSeconds, 1e-9);
            string latency = _latency.Count == 0 ? "latency -"
                : $"latency p50 {Units.Nanoseconds(_latency.Percentile(50))} p99 {Units.Nanoseconds(_latency.Percentile(99))} max {Units.Nanoseconds(_latency.Max)}";
            string line = string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss}  {_samples / seconds,12:N1} samples/s  {Units.Bytes((long)(_bytes / seconds)),10}/s  {latency}  dropped {Units.Count(dropped)}");
            _latency.Reset();
            _samples = 0;
            _bytes = 0;
            _windowStart = now;
            return line;
        }
    }
}
