using System.CommandLine;

namespace ZeroLane.Cli.Bench;

/// <summary>
/// Placeholder for the <c>bench</c> command, which is being written separately; the real file replaces this
/// one with the same shape.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The visible <c>bench</c> command.</summary>
    internal static Command Create()
    {
        var command = new Command("bench", "Measure throughput and latency of the ring buffer (not yet implemented).");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("zerolane bench: not yet implemented");
            return 2;
        });
        return command;
    }

    /// <summary>The hidden commands the benchmark starts as child processes (none yet).</summary>
    internal static IEnumerable<Command> CreateHidden() => [];
}
