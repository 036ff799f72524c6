using System.CommandLine;
using System.Diagnostics;
using ZeroLane.Cli.Demo;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane demo-subscriber</c> (a hidden command, see ToolCommands.cs): one subscribing child of <c>zerolane demo --subscribers N</c>.
/// Subscribes (blocking the publisher rather than losing frames), verifies every byte of every frame, measures latency,
/// and reports on standard output: <c>ready</c>, a <c>progress</c> line about every 250 ms, and a final <c>summary</c>
/// (see <see cref="DemoReport"/>). Stops when the publisher leaves or standard input closes.
/// </summary>
internal static class DemoSubscriberCommand
{
    internal const string CommandName = "demo-subscriber";

    private static readonly TimeSpan s_reportInterval = TimeSpan.FromMilliseconds(250);

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
        var tally = new FrameTally(frameSize, "publisher");
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
                        tally.Add(sample.Span, sample.Sequence, Stopwatch.GetTimestamp());
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
}
