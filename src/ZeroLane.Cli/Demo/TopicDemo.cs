using System.Globalization;
using ZeroLane.Cli.Commands;
using ZeroLane.Cli.Output;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Demo;

/// <summary>
/// <c>zerolane demo --subscribers N</c>: one publisher process streams synthetic 1080p frames on a fresh topic to N
/// subscriber processes, each verifying every byte; shows the first subscriber's progress live and a summary per subscriber.
/// </summary>
/// <remarks>
/// Design: this process only orchestrates, as for the ring demo. It starts the N <c>demo-subscriber</c> children and waits
/// for each one's <c>ready</c> line, then starts <c>demo-publisher</c>, which waits until all N have joined before its first
/// frame, so every subscriber sees every frame. Subscribers block the publisher rather than drop (a frame lost is a
/// failure). Whatever happens, the finally block stops every child (closing standard input, then a kill after a grace
/// period) and removes what is left of the topic, so nothing remains in /dev/shm.
/// </remarks>
internal static class TopicDemo
{
    private static readonly TimeSpan s_startupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_finishAllowance = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(3);

    internal static async Task<int> RunAsync(double seconds, int frameSize, int subscriberCount, CancellationToken cancellationToken)
    {
        string topic = "zerolane-demo-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var display = new ProgressDisplay();
        Console.Out.Write(
            $"zerolane demo: {seconds:0.##} s of {Units.Count(frameSize)}-byte frames{DemoCommand.FrameLabel(frameSize)} from one publisher process to {subscriberCount} subscriber processes\n" +
            $"on topic '{topic}'; each frame is written once in shared memory and every subscriber verifies every byte of it.\n");
        var subscribers = new List<DemoChild>();
        DemoChild? publisher = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_startupTimeout + TimeSpan.FromSeconds(seconds) + s_finishAllowance);
        try
        {
            string size = frameSize.ToString(CultureInfo.InvariantCulture);
            for (int i = 1; i <= subscriberCount; i++)
            {
                string role = $"subscriber {i}";
                DemoChild child = DemoChild.Start(role, [DemoSubscriberCommand.CommandName, "--topic", topic, "--frame-size", size], line => display.Message($"{role}: {line}"));
                subscribers.Add(child);
                if (!await WaitUntilReadyAsync(child, display, deadline.Token).ConfigureAwait(false))
                {
                    display.Message($"zerolane: {role} did not subscribe (exit code {await child.StopForExitCodeAsync(s_stopGrace).ConfigureAwait(false)}).");
                    return CliErrors.ExitCode;
                }
            }
            publisher = DemoChild.Start("publisher",
                [DemoPublisherCommand.CommandName, "--topic", topic, "--frame-size", size, "--seconds", seconds.ToString("R", CultureInfo.InvariantCulture),
                 "--subscribers", subscriberCount.ToString(CultureInfo.InvariantCulture)],
                line => display.Message("publisher: " + line));
            var progress = new ProgressFormatter(subscriberCount);
            Task<DemoReport?>[] summaries = subscribers
                .Select((child, index) => FollowAsync(child, display, index == 0 ? progress : null, deadline.Token))
                .Append(FollowAsync(publisher, display, null, deadline.Token))
                .ToArray();
            // A publisher that fails leaves its subscribers waiting for frames that never come: stop them after a grace period.
            int publisherExit = await publisher.Exited.WaitAsync(deadline.Token).ConfigureAwait(false);
            if (publisherExit != 0)
            {
                display.Message($"zerolane: the publisher process failed (exit code {publisherExit}).");
                await Task.WhenAny(Task.WhenAll(subscribers.Select(s => s.Exited)), Task.Delay(s_stopGrace, deadline.Token)).ConfigureAwait(false);
                await StopAsync(subscribers).ConfigureAwait(false);
            }
            DemoReport?[] reports = await Task.WhenAll(summaries).WaitAsync(deadline.Token).ConfigureAwait(false);
            int[] exits = await Task.WhenAll(subscribers.Select(s => s.Exited)).WaitAsync(deadline.Token).ConfigureAwait(false);
            display.Finish();
            return PrintSummary(reports[..^1], exits, reports[^1], publisherExit);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            display.Finish();
            display.Message("zerolane: interrupted; stopping the publisher and subscribers.");
            return CommandRunner.InterruptedExitCode;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            display.Finish();
            display.Message("zerolane: the demo did not finish in time; stopping the publisher and subscribers.");
            return CliErrors.ExitCode;
        }
        finally
        {
            await StopAsync(publisher is null ? subscribers : [publisher, .. subscribers]).ConfigureAwait(false);
            RemoveTopic(topic, display);
        }
    }

    private static async Task<bool> WaitUntilReadyAsync(DemoChild child, ProgressDisplay display, CancellationToken cancellationToken)
    {
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        startup.CancelAfter(s_startupTimeout);
        await foreach (string line in child.Lines.ReadAllAsync(startup.Token).ConfigureAwait(false))
        {
            if (DemoReport.TryParse(line) is { Kind: DemoReport.Ready })
            {
                return true;
            }
            display.Message($"{child.Role}: {line}");
        }
        return false;
    }

    /// <summary>Reads a child's lines to their end: shows progress (for the one given a formatter), returns its last summary.</summary>
    private static async Task<DemoReport?> FollowAsync(DemoChild child, ProgressDisplay display, ProgressFormatter? progress, CancellationToken cancellationToken)
    {
        DemoReport? summary = null;
        await foreach (string line in child.Lines.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            DemoReport? report = DemoReport.TryParse(line);
            if (report is { Kind: DemoReport.Summary })
            {
                summary = report;
            }
            else if (report is { Kind: DemoReport.Progress })
            {
                var elapsed = TimeSpan.FromTicks(report[DemoReport.ElapsedNs] / 100);
                if (progress is not null && report[DemoReport.Frames] > 0 && display.IsDue(elapsed))
                {
                    display.Show(progress.Format(report), elapsed);
                }
            }
            else if (report is not { Kind: DemoReport.Ready })
            {
                display.Message($"{child.Role}: {line}");
            }
        }
        return summary;
    }

    private static int PrintSummary(DemoReport?[] subscribers, int[] subscriberExits, DemoReport? publisher, int publisherExit)
    {
        var problems = new List<string>();
        if (publisher is null)
        {
            problems.Add("the publisher gave no summary");
        }
        if (publisherExit != 0)
        {
            problems.Add($"the publisher exited with code {publisherExit}");
        }
        long sent = publisher?[DemoReport.Frames] ?? 0;
        var text = new System.Text.StringBuilder("Summary\n");
        text.Append(CultureInfo.InvariantCulture, $"  publisher     sent {Units.Count(sent)} frames ({Units.Gigabytes(publisher?[DemoReport.Bytes] ?? 0)}), each written once for all {subscribers.Length} subscribers\n");
        long totalBytes = 0;
        for (int i = 0; i < subscribers.Length; i++)
        {
            string who = $"subscriber {i + 1}";
            DemoReport? report = subscribers[i];
            if (subscriberExits[i] != 0)
            {
                problems.Add($"{who} exited with code {subscriberExits[i]}");
            }
            if (report is null)
            {
                problems.Add($"{who} gave no summary");
                text.Append(CultureInfo.InvariantCulture, $"  {who,-12}  no summary\n");
                continue;
            }
            long frames = report[DemoReport.Frames];
            long bytes = report[DemoReport.Bytes];
            double elapsed = report[DemoReport.ElapsedNs] / 1e9;
            long lost = Math.Max(report[DemoReport.Lost], publisher is null ? 0 : Math.Max(0, sent - frames));
            long reordered = report[DemoReport.Reordered];
            long corrupt = report[DemoReport.Corrupt];
            totalBytes += bytes;
            if (frames == 0)
            {
                problems.Add($"no frame reached {who}");
            }
            if (lost + reordered + corrupt > 0)
            {
                problems.Add($"{who} lost, reordered or found corrupt frames");
            }
            if (report[DemoReport.Failed] != 0 && subscriberExits[i] == 0)
            {
                problems.Add($"{who} reported a failure");
            }
            text.Append(CultureInfo.InvariantCulture,
                $"  {who,-12}  frames {Units.Count(frames)} in {elapsed:0.00} s ({Units.GigabytesPerSecond(elapsed > 0 ? bytes / elapsed : 0)}), " +
                $"latency p50 {Units.Nanoseconds(report[DemoReport.P50Ns])} p99 {Units.Nanoseconds(report[DemoReport.P99Ns])} max {Units.Nanoseconds(report[DemoReport.MaxNs])}, " +
                $"lost {lost}, reordered {reordered}, corrupt {corrupt}, frame-path allocations {Units.Count(report[DemoReport.FramePathAllocatedBytes])} B\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"  verified      {Units.Gigabytes(totalBytes)} read in place across all subscribers (latency: publisher's send stamp to a subscriber's receipt)\n");
        text.Append(problems.Count == 0 ? "  result        OK\n" : $"  result        FAILED: {string.Join("; ", problems)}\n");
        Console.Out.Write(text.ToString());
        return problems.Count == 0 ? 0 : CliErrors.ExitCode;
    }

    private static async Task StopAsync(IReadOnlyList<DemoChild> children)
    {
        await Task.WhenAll(children.Select(child => child.StopAsync(s_stopGrace))).ConfigureAwait(false);
        foreach (DemoChild child in children)
        {
            child.Dispose();
        }
    }

    /// <summary>Removes what killed children left of the topic; harmless when they cleaned up after themselves.</summary>
    private static void RemoveTopic(string topic, ProgressDisplay display)
    {
        try
        {
            TopicInspector.Clean(topic);
            if (TopicInspector.TryGetTopic(topic, out _))
            {
                display.Message($"zerolane: objects of topic '{topic}' are left in /dev/shm; 'zerolane topics' shows them.");
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ZeroLaneException)
        {
            display.Message($"zerolane: could not remove topic '{topic}': {exception.Message}");
        }
    }

    /// <summary>The first subscriber's progress as the one-line live view, with its throughput since the previous line.</summary>
    private sealed class ProgressFormatter(int subscribers)
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
            return $"{elapsed / 1e9,5:0.0} s  {Units.Count(report[DemoReport.Frames]),9} frames  {Units.GigabytesPerSecond(rate),10} per subscriber (x{subscribers})  " +
                $"p50 {Units.Nanoseconds(report[DemoReport.P50Ns]),8}  p99 {Units.Nanoseconds(report[DemoReport.P99Ns]),8}";
        }
    }
}
