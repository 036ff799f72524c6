using System.CommandLine;
using System.Diagnostics;
using ZeroLane.Cli.Demo;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane demo-publisher</c> (a hidden command, see ToolCommands.cs): the publishing child of <c>zerolane demo --subscribers N</c>.
/// Creates the topic's publisher, waits until N subscribers have joined, then for the given time fills each frame in place
/// through a loan (pattern of its sequence number, send timestamp first) and commits it; leaves and prints a
/// <c>summary</c> line. Stops early when standard input closes.
/// </summary>
internal static class DemoPublisherCommand
{
    internal const string CommandName = "demo-publisher";

    /// <summary>Samples queued per subscriber; with two more slots, every subscriber can hold one while the next is written.</summary>
    private const int QueueDepth = 2;

    internal static Command Create()
    {
        var topic = new Option<string>("--topic") { Required = true };
        var frameSize = new Option<long>("--frame-size") { Required = true };
        var seconds = new Option<double>("--seconds") { Required = true };
        var subscribers = new Option<int>("--subscribers") { Required = true };
        var command = new Command(CommandName, "The topic demo's publisher process (started by 'zerolane demo --subscribers N').") { topic, frameSize, seconds, subscribers };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(
            parseResult.GetValue(topic)!, (int)parseResult.GetValue(frameSize), parseResult.GetValue(seconds), parseResult.GetValue(subscribers), cancellationToken)));
        return command;
    }

    private static int Run(string topic, int frameSize, double seconds, int subscribers, CancellationToken cancellationToken)
    {
        using var parent = new ParentWatch(cancellationToken);
        var publisher = new Publisher(topic, new PublisherOptions
        {
            MaxSampleSize = frameSize,
            QueueDepth = QueueDepth,
            Slots = QueueDepth + 2,
            MaxSubscribers = Math.Max(subscribers, 1),
            // Subscribers block the publisher rather than lose frames; one stalled this long is reported as losing them.
            AcknowledgeTimeout = TimeSpan.FromSeconds(10),
        });
        int exitCode = 0;
        try
        {
            Console.Out.Write(DemoReport.Format(DemoReport.Ready) + "\n");
            while (publisher.SubscriberCount < subscribers)
            {
                parent.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(2));
                parent.Token.ThrowIfCancellationRequested();
            }
            long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            // The publisher numbers its samples 1, 2, 3, ...; the pattern uses the number the sample will get.
            ulong sequence = 1;
            while (Stopwatch.GetTimestamp() < end)
            {
                FrameLoan loan = publisher.Loan(frameSize, parent.Token);
                try
                {
                    Span<byte> frame = loan.Span[..frameSize];
                    FramePattern.Fill(frame, sequence);
                    FramePattern.Stamp(frame, Stopwatch.GetTimestamp());
                    loan.Commit(frameSize);
                }
                finally
                {
                    loan.Dispose();
                }
                sequence++;
            }
        }
        catch (OperationCanceledException) when (parent.Token.IsCancellationRequested)
        {
            exitCode = CommandRunner.InterruptedExitCode;
        }
        finally
        {
            publisher.Dispose();
        }
        Console.Out.Write(DemoReport.Format(DemoReport.Summary,
            (DemoReport.Frames, publisher.SamplesPublished), (DemoReport.Bytes, publisher.SamplesPublished * frameSize), (DemoReport.Lost, publisher.SamplesDropped)) + "\n");
        return exitCode;
    }
}
