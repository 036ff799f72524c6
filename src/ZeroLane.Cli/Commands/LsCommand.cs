using System.CommandLine;
using ZeroLane.Buffers;
using ZeroLane.Cli.Output;
using ZeroLane.Duplex;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane ls</c>: every ZeroBuffer-protocol buffer on this host, as a table or as JSON lines; the table is followed by
/// the duplex services (each client's rings are buffers named <c>zls.SERVICE.c.PID.ID_request</c> and <c>_response</c>).
/// </summary>
internal static class LsCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per buffer per line." };
        var command = new Command("ls", "List every ZeroBuffer-protocol buffer on this host (that this user can read), then the duplex services.") { json };
        command.SetAction(parseResult => Run(parseResult.GetValue(json)));
        return command;
    }

    private static int Run(bool json)
    {
        IReadOnlyList<BufferStats> buffers = BufferInspector.List();
        if (json)
        {
            foreach (BufferStats stats in buffers)
            {
                Console.Out.Write(StatsText.Json(stats) + "\n");
            }
            return 0;
        }
        string services = ServicesText.Table(DuplexServiceInspector.List());
        if (buffers.Count == 0)
        {
            Console.Out.Write("No buffers.\n" + services);
            return 0;
        }
        var table = new TextTable("NAME", "PAYLOAD>", "USED>", "HEALTH", "WRITTEN>", "READ>", "WRITER", "READER");
        foreach (BufferStats stats in buffers)
        {
            table.AddRow(
                stats.Name,
                Units.Bytes(stats.PayloadCapacity),
                Units.Percent(stats.Utilization),
                stats.Health.ToString(),
                Units.Count(stats.FramesWritten),
                Units.Count(stats.FramesRead),
                StatsText.Peer(stats.WriterPid, stats.WriterAlive),
                StatsText.Peer(stats.ReaderPid, stats.ReaderAlive));
        }
        Console.Out.Write(table.ToString() + services);
        return 0;
    }
}
