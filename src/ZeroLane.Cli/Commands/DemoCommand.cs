using System.CommandLine;
using System.Globalization;
using ZeroLane.Buffers;
using ZeroLane.Cli.Demo;
using ZeroLane.Cli.Output;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane demo</c>: streams synthetic 1080p RGB frames from a writer process to a reader process
/// through a fresh buffer, shows throughput and latency live, and verifies every byte.
/// </summary>
/// <remarks>
/// Design: this process only orchestrates. It starts <c>demo-reader</c>, waits for its <c>ready</c> line (the
/// buffer exists), starts <c>demo-writer</c>, and follows the reader's report lines. Whatever happens (success,
/// a failing child, Ctrl+C, an exception), the finally block stops both children (closing their standard input
/// asks them to stop, a kill follows after a grace period) and then removes whatever is left of the buffer,
/// so nothing remains in /dev/shm or /tmp/zerobuffer. A child whose parent dies sees its standard input close
/// and stops by itself.
/// </remarks>
internal static class DemoCommand
{
    /// <summary>1920 x 1080 pixels x 3 bytes (RGB).</summary>
    private const long DefaultFrameSize = 1920 * 1080 * 3;

    private const long MinimumBufferSize = 32L << 20;

    /// <summary>Subscriber processes the topic demo starts at most (each verifies every frame: more only share the cores).</summary>
    private const int MaxTopicSubscribers = 16;

    private static readonly TimeSpan s_startupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_finishAllowance = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(3);

    private sealed record Settings(double Seconds, int FrameSize, long BufferSize);

    /// <summary>" (1080p RGB)" for the default frame size, nothing for any other.</summary>
    internal static string FrameLabel(long frameSize) => frameSize == DefaultFrameSize ? " (1080p RGB)" : "";

    internal static Command Create()
    {
        var seconds = new Option<double>("--seconds", "-s") { Description = "How long the writer streams.", DefaultValueFactory = _ => 10, HelpName = "seconds" };
        Option<long> frameSize = CommonOptions.CreateSizeOption("--frame-size", "Bytes per frame (default 6,220,800: one 1080p RGB frame).", DefaultFrameSize);
        Option<long?> bufferSize = CommonOptions.CreateOptionalSizeOption("--buffer-size",
            "Size of the payload block. Default: room for about 4 frames, at least 32M.");
        var subscribers = new Option<int?>("--subscribers")
        {
            Description = "Instead of the ring: one publisher process streams the frames on a topic to this many subscriber processes, each verifying every byte.",
            HelpName = "n",
        };
        var command = new Command("demo", "Stream 1080p frames between two processes through a shared-memory ring (or, with --subscribers N, from one publisher to N subscribers on a topic); show GB/s and latency, verify every byte.")
        {
            seconds, frameSize, bufferSize, subscribers,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            double s = parseResult.GetValue(seconds);
            long frame = parseResult.GetValue(frameSize);
            CliErrors.Require(s is > 0 and <= 86_400, "--seconds must be more than 0 and at most 86400.");
            CliErrors.Require(frame >= FramePattern.MinimumFrameLength && frame <= int.MaxValue / 2,
                $"--frame-size must be between {FramePattern.MinimumFrameLength} and {int.MaxValue / 2} bytes.");
            if (parseResult.GetValue(subscribers) is { } count)
            {
                CliErrors.Require(count is >= 1 and <= MaxTopicSubscribers, $"--subscribers must be from 1 to {MaxTopicSubscribers}.");
                CliErrors.Require(parseResult.GetValue(bufferSize) is null, "--buffer-size sizes the ring; a topic's memory follows --frame-size, so leave it out with --subscribers.");
                return TopicDemo.RunAsync(s, (int)frame, count, cancellationToken);
            }
            long buffer = parseResult.GetValue(bufferSize) ?? DefaultBufferSizeFor(frame);
            CliErrors.Require(buffer >= frame + 32,
                $"--buffer-size must be at least --frame-size + 32 ({frame + 32}) bytes: a frame and its header must fit.");
            return RunAsync(new Settings(s, (int)frame, buffer), cancellationToken);
        });
        return command;
    }

    /// <summary>Room for about four frames and their headers, in whole MiB, at least 32 MiB.</summary>
    private static long DefaultBufferSizeFor(long frameSize)
    {
        const long MiB = 1L << 20;
        long four = 4 * (frameSize + 16);
        return Math.Max(MinimumBufferSize, (four + MiB - 1) / MiB * MiB);
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        string name = "zerolane-demo-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var display = new ProgressDisplay();
        Console.Out.Write(
            $"zerolane demo: {settings.Seconds:0.##} s of {Units.Count(settings.FrameSize)}-byte frames{DemoCommand.FrameLabel(settings.FrameSize)} from a writer process to a reader process\n" +
            $"through buffer '{name}' ({Units.Bytes(settings.BufferSize)} payload block); every byte of every frame is verified.\n");
        DemoChild? reader = null;
        DemoChild? writer = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_startupTimeout + TimeSpan.FromSeconds(settings.Seconds) + s_finishAllowance);
        try
        {
            string frameSize = settings.FrameSize.ToString(CultureInfo.InvariantCulture);
            reader = DemoChild.Start("reader",
                [DemoReaderCommand.CommandName, "--name", name, "--buffer-size", settings.BufferSize.ToString(CultureInfo.InvariantCulture), "--frame-size", frameSize],
                line => display.Message("reader: " + line));
            if (!await WaitUntilReadyAsync(reader, display, deadline.Token).ConfigureAwait(false))
            {
                display.Message($"zerolane: the reader process did not create the buffer (exit code {await reader.StopForExitCodeAsync(s_stopGrace).ConfigureAwait(false)}).");
                return CliErrors.ExitCode;
            }
            writer = DemoChild.Start("writer",
                [DemoWriterCommand.CommandName, "--name", name, "--frame-size", frameSize, "--seconds", settings.Seconds.ToString("R", CultureInfo.InvariantCulture)],
                line => display.Message("writer: " + line));
            DemoReport? readerSummary = await FollowReaderAsync(reader, writer, display, deadline.Token).ConfigureAwait(false);
            int readerExit = await reader.Exited.WaitAsync(deadline.Token).ConfigureAwait(false);
            int writerExit = await writer.Exited.WaitAsync(deadline.Token).ConfigureAwait(false);
            DemoReport? writerSummary = LastSummary(writer, display);
            display.Finish();
            return PrintSummary(settings, readerSummary, readerExit, writerSummary, writerExit);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            display.Finish();
            display.Message("zerolane: interrupted; stopping the reader and writer.");
            return CommandRunner.InterruptedExitCode;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            display.Finish();
            display.Message($"zerolane: the demo did not finish in time; stopping the reader and writer.");
            return CliErrors.ExitCode;
        }
        finally
        {
            await StopAsync(writer, reader).ConfigureAwait(false);
            RemoveBuffer(name, display);
        }
    }

    /// <summary>True once the reader reports the buffer created; false if it ends first.</summary>
    private static async Task<bool> WaitUntilReadyAsync(DemoChild reader, ProgressDisplay display, CancellationToken cancellationToken)
    {
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        startup.CancelAfter(s_startupTimeout);
        await foreach (string line in reader.Lines.ReadAllAsync(startup.Token).ConfigureAwait(false))
        {
            if (DemoReport.TryParse(line) is { Kind: DemoReport.Ready })
            {
                return true;
            }
            display.Message("reader: " + line);
        }
        return false;
    }

    /// <summary>
    /// Shows the reader's progress until its summary arrives; returns null if the reader ends without one, or
    /// gives none within a grace period after the writer failed (it may never have seen the writer).
    /// </summary>
    private static async Task<DemoReport?> FollowReaderAsync(DemoChild reader, DemoChild writer, ProgressDisplay display, CancellationToken cancellationToken)
    {
        var progress = new ProgressFormatter();
        Task<int> writerExited = writer.Exited;
        bool watchWriter = true;
        Task<bool>? linesReady = null;
        using var afterWriterFailed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            linesReady ??= reader.Lines.WaitToReadAsync(cancellationToken).AsTask();
            if (watchWriter && await Task.WhenAny(linesReady, writerExited).ConfigureAwait(false) == writerExited)
            {
                watchWriter = false;
                if (writerExited.Result != 0)
                {
                    display.Message($"zerolane: the writer process failed (exit code {writerExited.Result}).");
                    afterWriterFailed.CancelAfter(s_stopGrace);
                }
                continue;
            }
            bool more;
            try
            {
                more = await linesReady.WaitAsync(afterWriterFailed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            if (!more)
            {
                return null;
            }
            linesReady = null;
            while (reader.Lines.TryRead(out string? line))
            {
                DemoReport? report = DemoReport.TryParse(line);
                if (report is { Kind: DemoReport.Summary })
                {
                    return report;
                }
                if (report is { Kind: DemoReport.Progress })
                {
                    var elapsed = TimeSpan.FromTicks(report[DemoReport.ElapsedNs] / 100);
                    if (report[DemoReport.Frames] > 0 && display.IsDue(elapsed))
                    {
                        display.Show(progress.Format(report), elapsed);
                    }
                }
                else
                {
                    display.Message("reader: " + line);
                }
            }
        }
    }

    private static DemoReport? LastSummary(DemoChild child, ProgressDisplay display)
    {
        DemoReport? summary = null;
        while (child.Lines.TryRead(out string? line))
        {
            if (DemoReport.TryParse(line) is { Kind: DemoReport.Summary } report)
            {
                summary = report;
            }
            else
            {
                display.Message($"{child.Role}: {line}");
            }
        }
        return summary;
    }

    private static int PrintSummary(Settings settings, DemoReport? reader, int readerExit, DemoReport? writer, int writerExit)
    {
        var problems = new List<string>();
        if (reader is null)
        {
            problems.Add("the reader gave no summary");
        }
        if (readerExit != 0)
        {
            problems.Add($"the reader exited with code {readerExit}");
        }
        if (writerExit != 0)
        {
            problems.Add($"the writer exited with code {writerExit}");
        }
        if (reader is not null)
        {
            long frames = reader[DemoReport.Frames];
            long bytes = reader[DemoReport.Bytes];
            double seconds = reader[DemoReport.ElapsedNs] / 1e9;
            // Frames the writer committed that never arrived count as lost too, gap or no gap.
            long unreceived = writer is null ? 0 : Math.Max(0, writer[DemoReport.Frames] - frames);
            long lost = Math.Max(reader[DemoReport.Lost], unreceived);
            long reordered = reader[DemoReport.Reordered];
            long corrupt = reader[DemoReport.Corrupt];
            if (frames == 0)
            {
                problems.Add("no frame arrived");
            }
            if (lost + reordered + corrupt > 0)
            {
                problems.Add("frames were lost, reordered or corrupt");
            }
            if (reader[DemoReport.Failed] != 0 && readerExit == 0)
            {
                problems.Add("the reader reported a failure");
            }
            Console.Out.Write(
                "Summary\n" +
                $"  frames     {Units.Count(frames)} in {seconds:0.00} s ({(seconds > 0 ? frames / seconds : 0):N1} frames/s)\n" +
                $"  bytes      {Units.Count(bytes)} = {Units.Gigabytes(bytes)} ({Units.GigabytesPerSecond(seconds > 0 ? bytes / seconds : 0)})\n" +
                $"  latency    p50 {Units.Nanoseconds(reader[DemoReport.P50Ns])}, p99 {Units.Nanoseconds(reader[DemoReport.P99Ns])}, max {Units.Nanoseconds(reader[DemoReport.MaxNs])} (writer's send stamp to reader's receipt)\n" +
                $"  integrity  lost {lost}, reordered {reordered}, corrupt {corrupt} (writer sent {(writer is null ? "?" : Units.Count(writer[DemoReport.Frames]))} frames)\n" +
                $"  memory     the reader allocated {Units.Count(reader[DemoReport.FramePathAllocatedBytes])} bytes on its frame path (waiting, reading, verifying, timing)\n");
        }
        Console.Out.Write(problems.Count == 0 ? "  result     OK\n" : $"  result     FAILED: {string.Join("; ", problems)}\n");
        return problems.Count == 0 ? 0 : CliErrors.ExitCode;
    }

    private static async Task StopAsync(params DemoChild?[] children)
    {
        await Task.WhenAll(children.OfType<DemoChild>().Select(child => child.StopAsync(s_stopGrace))).ConfigureAwait(false);
        foreach (DemoChild? child in children)
        {
            child?.Dispose();
        }
    }

    /// <summary>Removes the buffer's objects in case the reader could not (it was killed); harmless if it did.</summary>
    private static void RemoveBuffer(string name, ProgressDisplay display)
    {
        try
        {
            BufferInspector.Clean(name);
            if (BufferInspector.TryGetStats(name, out _))
            {
                display.Message($"zerolane: buffer '{name}' could not be removed; 'zerolane clean' removes it once its reader is gone.");
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ZeroLaneException)
        {
            display.Message($"zerolane: could not remove buffer '{name}': {exception.Message}");
        }
    }

    /// <summary>Turns progress reports into the one-line live view, with throughput since the previous line shown.</summary>
    private sealed class ProgressFormatter
    {
        private long _previousBytes;
        private long _previousElapsed;

        internal string Format(DemoReport report)
        {
            long bytes = report[DemoReport.Bytes];
            long elapsed = report[DemoReport.ElapsedNs];
            double rate = elapsed > _previousElapsed ? (bytes - _previousBytes) / ((elapsed - _previousElapsed) / 1e9) : 0;
            _previousBytes = bytes;
            _previousElapsed = elapsed;
            return $"{elapsed / 1e9,5:0.0} s  {Units.Count(report[DemoReport.Frames]),9} frames  {Units.GigabytesPerSecond(rate),10}  " +
                $"p50 {Units.Nanoseconds(report[DemoReport.P50Ns]),8}  p99 {Units.Nanoseconds(report[DemoReport.P99Ns]),8}  " +
                $"buffer {Units.Percent(report[DemoReport.UtilizationBasisPoints] / 10_000.0),6}";
        }
    }
}
