using System.CommandLine;
using System.Diagnostics;
using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Cli.Demo;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane demo-reader</c> (a hidden command, see Program.cs): the demo's reading child. Creates the buffer, verifies every frame,
/// measures latency, and reports to the parent on standard output: <c>ready</c>, a <c>progress</c> line about
/// every 250 ms, and a final <c>summary</c> (see <see cref="DemoReport"/>). Stops when the writer disconnects
/// or standard input closes.
/// </summary>
internal static class DemoReaderCommand
{
    internal const string CommandName = "demo-reader";

    private static readonly TimeSpan s_reportInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Corrupt frames described on standard error; the rest are only counted.</summary>
    private const int MaxCorruptionMessages = 5;

    internal static Command Create()
    {
        var name = new Option<string>("--name") { Required = true };
        var bufferSize = new Option<long>("--buffer-size") { Required = true };
        var frameSize = new Option<long>("--frame-size") { Required = true };
        var command = new Command(CommandName, "The demo's reader process (started by 'zerolane demo').") { name, bufferSize, frameSize };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(
            parseResult.GetValue(name)!, parseResult.GetValue(bufferSize), (int)parseResult.GetValue(frameSize), cancellationToken)));
        return command;
    }

    /// <summary>The metadata the demo writer sets, which the reader checks: it names the frame format.</summary>
    internal static byte[] Metadata(int frameSize) => Encoding.UTF8.GetBytes($"zerolane-demo frame-size={frameSize} format=rgb24");

    private static int Run(string name, long bufferSize, int frameSize, CancellationToken cancellationToken)
    {
        using var parent = new ParentWatch(cancellationToken);
        using var reader = new RingReader(name, new ReaderOptions { PayloadSize = bufferSize });
        Console.Out.Write(DemoReport.Format(DemoReport.Ready, (DemoReport.PayloadCapacity, reader.PayloadCapacity)) + "\n");
        var tally = new Tally(frameSize, Metadata(frameSize));
        long nextReport = Stopwatch.GetTimestamp() + (long)(s_reportInterval.TotalSeconds * Stopwatch.Frequency);
        int exitCode = 0;
        try
        {
            while (true)
            {
                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                ReadStatus status = reader.TryRead(out Frame frame, s_reportInterval, parent.Token);
                if (status == ReadStatus.Success)
                {
                    using (frame)
                    {
                        tally.Add(frame, reader);
                    }
                }
                tally.FramePathAllocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                if (status == ReadStatus.WriterDisconnected)
                {
                    break;
                }
                else if (status == ReadStatus.WriterDied)
                {
                    Console.Error.Write("the writer died without disconnecting.\n");
                    tally.Failed = true;
                    break;
                }
                long now = Stopwatch.GetTimestamp();
                if (now >= nextReport)
                {
                    Console.Out.Write(tally.Report(DemoReport.Progress, reader.GetStats().Utilization) + "\n");
                    tally.Window.Reset();
                    nextReport = now + (long)(s_reportInterval.TotalSeconds * Stopwatch.Frequency);
                }
            }
        }
        catch (OperationCanceledException) when (parent.Token.IsCancellationRequested)
        {
            Console.Error.Write("stopped before the writer finished.\n");
            tally.Failed = true;
            exitCode = CommandRunner.InterruptedExitCode;
        }
        catch (BufferCorruptedException exception)
        {
            Console.Error.Write(exception.Message + "\n");
            tally.Corrupt++;
            tally.Failed = true;
        }
        Console.Out.Write(tally.Report(DemoReport.Summary, reader.GetStats().Utilization) + "\n");
        return exitCode != 0 ? exitCode : tally.Clean ? 0 : CliErrors.ExitCode;
    }

    /// <summary>Everything the reader counts and measures; allocation-free per frame.</summary>
    private sealed class Tally(int frameSize, byte[] expectedMetadata)
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

        /// <summary>Bytes allocated while waiting for, reading, verifying and timing frames (expected: none).</summary>
        internal long FramePathAllocated { get; set; }

        internal bool Failed { get; set; }

        internal bool Clean => !Failed && _lost == 0 && _reordered == 0 && Corrupt == 0 && _frames > 0;

        internal void Add(in Frame frame, RingReader reader)
        {
            long received = Stopwatch.GetTimestamp();
            ReadOnlySpan<byte> data = frame.Span;
            ulong sequence = frame.Sequence;
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
            if (_frames == 0 && !reader.GetMetadata().SequenceEqual(expectedMetadata))
            {
                Describe("the buffer's metadata is not the demo's.");
                Failed = true;
            }
            bool intact = data.Length == frameSize && FramePattern.Verify(data, sequence);
            long stamp = intact ? FramePattern.ReadStamp(data) : 0;
            if (!intact || stamp <= 0 || stamp > received)
            {
                Corrupt++;
                if (Corrupt <= MaxCorruptionMessages)
                {
                    Describe(data.Length != frameSize ? $"frame {sequence} is corrupt: {data.Length} bytes where {frameSize} were sent."
                        : !intact ? $"frame {sequence} is corrupt: its content is not the pattern the writer filled in."
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

        internal string Report(string kind, double utilization)
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
                (DemoReport.Lost, _lost),
                (DemoReport.Reordered, _reordered),
                (DemoReport.Corrupt, Corrupt),
                (DemoReport.UtilizationBasisPoints, (long)Math.Round(utilization * 10_000)),
                (DemoReport.Failed, Failed ? 1 : 0),
                (DemoReport.FramePathAllocatedBytes, FramePathAllocated));
        }

        private static void Describe(string message) => Console.Error.Write(message + "\n");
    }
}
