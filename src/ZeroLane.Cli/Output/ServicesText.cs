using ZeroLane.Duplex;

namespace ZeroLane.Cli.Output;

/// <summary>The duplex services table that <c>zerolane ls</c> and <c>zerolane topics</c> print after their own.</summary>
internal static class ServicesText
{
    /// <summary>
    /// One row per service (its process, clients admitted, each client process); empty when there is none. Each client's
    /// rings are the buffers named <c>CHANNEL_request</c> and <c>CHANNEL_response</c> in the buffer list.
    /// </summary>
    internal static string Table(IReadOnlyList<DuplexServiceInfo> services)
    {
        if (services.Count == 0)
        {
            return "";
        }
        var table = new TextTable("SERVICE", "PROCESS", "CLIENTS>", "CLIENT PROCESSES", "CLIENT RINGS");
        foreach (DuplexServiceInfo service in services)
        {
            string clients = service.Clients.Count == 0
                ? "-"
                : string.Join(", ", service.Clients.Select(c => c.Joining ? $"{c.Pid} (joining)" : StatsText.Peer(c.Pid, c.Alive)));
            table.AddRow(
                service.Name,
                service.Pid == 0 ? (service.Alive ? "(starting)" : "-") : StatsText.Peer(service.Pid, service.Alive),
                service.ClientCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                clients,
                service.ClientCount == 0 ? "-" : $"zls.{service.Name}.c.PID.ID_request, _response");
        }
        return "\nDuplex services (clean up after dead ones with: zerolane clean):\n" + table;
    }
}
