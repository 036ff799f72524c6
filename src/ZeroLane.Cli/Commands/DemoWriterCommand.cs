using System.CommandLine;
using System.Diagnostics;
using ZeroLane.Buffers;
using ZeroLane.Cli.Demo;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane demo-writer</c> (a hidden command, see ToolCommands.cs): the demo's writing child. Connects to the buffer, then for the given
/// time fills each frame in place through a loan (pattern of its sequence number, send timestamp last) and
/// commits it; disconnects and prints a <c>summary</c> line. Stops early when standard input closes.
/// </summary>
internal static class DemoWriterCommand
{
    internal const string CommandName = "demo-writer";

    internal static Command Create()
    {
        var name = new Option<string>("--name") { Required = true };
        var frameSize = new Option<long>("--frame-size") { Required = true };
        var seconds = new Option<double>("--seconds") { Required = true };
        var command = new Command(CommandName, "The demo's writer process (started by 'zerolane demo').") { name, frameSize, seconds };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(
            parseResult.GetValue(name)!, (int)parseResult.GetValue(frameSize), parseResult.GetValue(seconds), cancellationToken)));
        return command;
    }

    private static int Run(string name, int frameSize, double seconds, CancellationToken cancellationToken)
    {
        using var parent = new ParentWatch(cancellationToken);
        var writer = new RingWriter(name);
        int exitCode = 0;
        try
        {
            writer.SetMetadata(DemoReaderCommand.Metadata(frameSize));
            long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            // The ring numbers a writer's frames 1, 2, 3, ...; the pattern uses the number the frame will get.
            ulong sequence = 1;
            while (Stopwatch.GetTimestamp() < end)
            {
                FrameLoan loan = writer.Loan(frameSize, parent.Token);
                try
                {
                    Span<byte> frame = loan.Span;
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
            writer.Dispose();
        }
        Console.Out.Write(DemoReport.Format(DemoReport.Summary, (DemoReport.Frames, writer.FramesWritten), (DemoReport.Bytes, writer.BytesWritten)) + "\n");
        return exitCode;
    }
}
