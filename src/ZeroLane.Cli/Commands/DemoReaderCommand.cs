using System.CommandLine;
using System.Diagnostics;
using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Cli.Demo;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane demo-reader</c> (a hidden command, see ToolCommands.cs): the demo's reading child. Creates the buffer, verifies every frame,
/// measures latency, and reports to the parent on standard output: <c>ready</c>, a <c>progress</c> line about
/// every 250 ms, and a final <c>summary</c> (see <see cref="DemoReport"/>). Stops when the writer disconnects
/// or standard input closes.
/// </summary>
internal static class DemoReaderCommand
{
    internal const string CommandName = "demo-reader";

    private static readonly TimeSpan s_reportInterval = TimeSpan.FromMilliseconds(250);

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
        var tally = new FrameTally(frameSize, "writer");
        byte[] expectedMetadata = Metadata(frameSize);
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
                        if (tally.Frames == 0 && !reader.GetMetadata().SequenceEqual(expectedMetadata))
                        {
                            FrameTally.Describe("the buffer's metadata is not the demo's.");
                            tally.Failed = true;
                        }
                        tally.Add(frame.Span, frame.Sequence, Stopwatch.GetTimestamp());
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
                    Console.Out.Write(tally.Report(DemoReport.Progress, extra: Utilization(reader)) + "\n");
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
        Console.Out.Write(tally.Report(DemoReport.Summary, extra: Utilization(reader)) + "\n");
        return exitCode != 0 ? exitCode : tally.IsClean() ? 0 : CliErrors.ExitCode;
    }

    private static (string, long) Utilization(RingReader reader) =>
        (DemoReport.UtilizationBasisPoints, (long)Math.Round(reader.GetStats().Utilization * 10_000));
}
