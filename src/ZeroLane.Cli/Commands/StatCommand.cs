using System.CommandLine;
using ZeroLane.Buffers;
using ZeroLane.Cli.Output;

namespace ZeroLane.Cli.Commands;

/// <summary><c>zerolane stat NAME</c>: every figure of one buffer, once or refreshed every 500 ms.</summary>
internal static class StatCommand
{
    private static readonly TimeSpan s_refreshInterval = TimeSpan.FromMilliseconds(500);

    internal static Command Create()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh every 500 ms until Ctrl+C." };
        var count = new Option<int?>("--count") { Description = "With --watch: stop after this many refreshes.", HelpName = "n" };
        var command = new Command("stat", "Show the details of one buffer.") { name, watch, count };
        command.SetAction((parseResult, cancellationToken) =>
            RunAsync(parseResult.GetValue(name)!, parseResult.GetValue(watch), parseResult.GetValue(count), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string name, bool watch, int? count, CancellationToken cancellationToken)
    {
        CliErrors.Require(count is null or >= 1, "--count must be at least 1.");
        BufferStats stats = BufferInspector.TryGetStats(name, out BufferStats? found) ? found : throw NotFound(name);
        if (!watch && count is null)
        {
            Console.Out.Write(StatsText.Details(stats));
            return 0;
        }
        bool live = !Console.IsOutputRedirected;
        int previousLines = 0;
        for (int refresh = 1; ; refresh++)
        {
            string block = $"{DateTime.Now:HH:mm:ss.f}  (every {s_refreshInterval.TotalMilliseconds:0} ms, Ctrl+C to stop)\n" + StatsText.Details(stats);
            if (live && previousLines > 0)
            {
                // Move up over the previous block and clear it, so the figures update in place.
                Console.Out.Write($"\u001b[{previousLines}A\u001b[J");
            }
            else if (!live && refresh > 1)
            {
                Console.Out.Write("\n");
            }
            Console.Out.Write(block);
            previousLines = block.Count(c => c == '\n');
            if (refresh == count)
            {
                return 0;
            }
            await Task.Delay(s_refreshInterval, cancellationToken).ConfigureAwait(false);
            stats = BufferInspector.TryGetStats(name, out BufferStats? current) ? current : throw new CommandException($"buffer '{name}' no longer exists: its reader removed it.");
        }
    }

    private static CommandException NotFound(string name) =>
        new($"no buffer named '{name}' exists on this host (or this user may not read it). 'zerolane ls' lists the buffers.");
}
