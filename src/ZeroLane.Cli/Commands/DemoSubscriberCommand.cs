using System.CommandLine;
using System.Diagnostics;
using ZeroLane.Cli.Demo;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane demo-subscriber</c> (a hidden command, see Program.cs): one subscribing child of <c>zerolane demo --subscribers N</c>.
/// Subscribes (blocking the publisher rather than losing frames), verifies every byte of every frame, measures latency,
/// and reports on standard output: <c>ready</c>, a <c>progress</c> line about every 250 ms, and a final <c>summary</c>
/// (see <see cref="DemoReport"/>). Stops when the publisher leaves or standard input closes.
/// </summary>
internal static class DemoSubscriberCommand
{
    internal const string CommandName = "demo-subscriber";

    private static readonly TimeSpan s_reportInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Damaged frames described on standard error; the rest are only counted.</summary>
    private const int MaxCorruptionMessages = 5;

    internal static Command Create()
    {
        var topic = new Option<string>("--topic") { Required = true };
        var frameSize = new Option<long>("--frame-size") { Required = true };
        var command = new Command(CommandName, "The topic demo's subscriber process (started by 'zerolane demo --subscribers N').") { topic, frameSize };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(
            parseResult.GetValue(topic)!, (int)parseResult.GetValue(frameSize), cancellationToken)));
        return command;
    }

    private static int Run(string topic, int frameSize, CancellationToken cancellationToken)
    {
        using var parent = new ParentWatch(cancellationToken);
        using var subscriber = new Subscriber(topic, new SubscriberOptions { Overflow = OverflowPolicy.BlockPublisher, MaxHeld = 1 });
        Console.Out.Write(DemoReport.Format(DemoReport.Ready) + "\n");
        var tally = new SampleTally(frameSize);
        long nextReport = Stopwatch.GetTimestamp() + (long)(s_reportInterval.TotalSeconds * Stopwatch.Frequency);
        int exitCode = 0;
        try
        {
            while (true)
            {
                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                ReadStatus status = subscriber.TryRead(out Sample sample, s_reportInterval, parent.Token);
                if (status == ReadStatus.Success)
                {
                    using (sample)
                    {
                        tally.Add(sample);
                    }
                }
                tally.FramePathAllocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                if (status == ReadStatus.WriterDisconnected)
                {
                    break;
                }
                if (status == ReadStatus.WriterDied)
                {
                    Console.Error.Write("the publisher died without leaving.\n");
                    tally.Failed = true;
                    break;
                }
                long now = Stopwatch.GetTimestamp();
                if (now >= nextReport)
                {
                    Console.Out.Write(tally.Report(DemoReport.Progress, subscriber.SamplesDropped) + "\n");
                    tally.Window.Reset();
                    nextReport = now + (long)(s_reportInterval.TotalSeconds * Stopwatch.Frequency);
                }
            }
        }
        catch (OperationCanceledException) when (parent.Token.IsCancellationRequested)
        {
            Console.Error.Write("stopped before the publisher finished.\n");
            tally.Failed = true;
            exitCode = CommandRunner.InterruptedExitCode;
        }
        catch (BufferCorruptedException exception)
        {
            Console.Error.Write(exception.Message + "\n");
            tally.Corrupt++;
            tally.Failed = true;
        }
        long dropped = subscriber.SamplesDropped;
        Console.Out.Write(tally.Report(DemoReport.Summary, dropped) + "\n");
        return exitCode != 0 ? exitCode : tally.IsClean(dropped) ? 0 : CliErrors.ExitCode;
    }

    /// <summary>What a subscriber counts and measures; allocation-free per sample.</summary>
    private sealed class SampleTally(int frameSize)
    {
        private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

        private ulong _expectedSequence = 1;
        private long _firstStamp;
        private long _lastDone;
        private long _frames;
        private long _bytes;
        private long _lost;
        private long _reordered;

        internal LatencyHistogram Total { get; } = new();

        internal LatencyHistogram Window { get; } = new();

        internal long Corrupt { get; set; }

        internal long FramePathAllocated { get; set; }

        internal bool Failed { get; set; }

        internal bool IsClean(long dropped) => !Failed && _lost == 0 && dropped == 0 && _reordered == 0 && Corrupt == 0 && _frames > 0;

        internal void Add(in Sample sample)
        {
            long received = Stopwatch.GetTimestamp();
            ReadOnlySpan<byte> data = sample.Span;
            ulong sequence = sample.Sequence;
            if (sequence != _expectedSequence)
            {
                if (sequence > _expectedSequence)
                {
                    _lost += (long)(sequence - _expectedSequence);
                }
                else
                {
                    _reordered++;
                }
                Describe($"frame {sequence} arrived when {_expectedSequence} was expected.");
            }
            _expectedSequence = sequence + 1;
            bool intact = data.Length == frameSize && FramePattern.Verify(data, sequence);
            long stamp = intact ? FramePattern.ReadStamp(data) : 0;
            if (!intact || stamp <= 0 || stamp > received)
            {
                Corrupt++;
                if (Corrupt <= MaxCorruptionMessages)
                {
                    Describe(data.Length != frameSize ? $"frame {sequence} is corrupt: {data.Length} bytes where {frameSize} were sent."
                        : !intact ? $"frame {sequence} is corrupt: its content is not the pattern the publisher filled in."
                        : $"frame {sequence} is corrupt: its send timestamp {stamp} is not a time before its receipt ({received}).");
                }
            }
            else
            {
                long latency = (long)((received - stamp) * s_nanosecondsPerTick);
                Total.Record(latency);
                Window.Record(latency);
                if (_frames == 0)
                {
                    _firstStamp = stamp;
                }
            }
            _frames++;
            _bytes += data.Length;
            _lastDone = Stopwatch.GetTimestamp();
        }

        internal string Report(string kind, long dropped)
        {
            LatencyHistogram latencies = kind == DemoReport.Progress ? Window : Total;
            long elapsed = _frames == 0 || _firstStamp == 0 ? 0 : (long)((_lastDone - _firstStamp) * s_nanosecondsPerTick);
            return DemoReport.Format(kind,
                (DemoReport.Frames, _frames),
                (DemoReport.Bytes, _bytes),
                (DemoReport.ElapsedNs, elapsed),
                (DemoReport.P50Ns, latencies.Percentile(50)),
                (DemoReport.P99Ns, latencies.Percentile(99)),
                (DemoReport.MaxNs, Total.Max),
                (DemoReport.Lost, Math.Max(_lost, dropped)), // a dropped frame is also a gap in the sequence
                (DemoReport.Reordered, _reordered),
                (DemoReport.Corrupt, Corrupt),
                (DemoReport.Failed, Failed ? 1 : 0),
                (DemoReport.FramePathAllocatedBytes, FramePathAllocated));
        }

        private static void Describe(string message) => Console.Error.Write(message + "\n");
    }
}
