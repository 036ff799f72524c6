using System.CommandLine;
using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>
/// Builds a peer command: the options of <see cref="PeerOptions"/> and an action that runs one role. The tool
/// registers it hidden, with its other child-process commands.
/// </summary>
internal static class PeerCommand
{
    internal static Command Create(string name, string description, Action<PeerOptions> run)
    {
        var role = new Option<string>("--role") { Description = "reader, writer, echo or initiator (ring, socket); publisher, subscriber, echo or initiator (topic); echo, initiator or writer (duplex: server, round trips, pipelining).", Required = true };
        var bufferName = new Option<string>("--name") { Description = "Ring buffer name or socket path.", Required = true };
        var replyName = new Option<string?>("--reply-name") { Description = "Ring latency: the buffer replies travel on." };
        var frameBytes = new Option<int>("--frame-bytes") { Description = "Size of every data frame.", Required = true };
        var payloadBytes = new Option<long>("--payload-bytes") { Description = "Payload block of each ring buffer created.", DefaultValueFactory = _ => 1 << 20 };
        var wait = new Option<string>("--wait") { Description = "busy-spin, spin-then-block or blocking.", DefaultValueFactory = _ => BenchWait.NameOf(WaitStrategy.SpinThenBlock) };
        var warmup = new Option<double>("--warmup") { Description = "Seconds before the measured window.", DefaultValueFactory = _ => 0.5 };
        var seconds = new Option<double>("--seconds") { Description = "Length of the measured window.", DefaultValueFactory = _ => 2 };
        var maxSamples = new Option<int>("--max-samples") { Description = "Capacity of the latency sample array.", DefaultValueFactory = _ => 1_000_000 };
        var parts = new Option<int>("--parts") { Description = "Send each frame as a message of this many parts (0: raw frames)." };
        var subscribers = new Option<int>("--subscribers") { Description = "Topic publisher: subscribers to wait for before sending." };
        var writer = new Option<string?>("--writer") { Description = "Topic publisher: full or modified (send through a payload writer); duplex server: loan (the loan handler)." };
        var inFlight = new Option<int>("--in-flight") { Description = "Duplex pipelining client: requests kept in flight." };
        var cpu = new Option<int>("--cpu") { Description = "Pin the measuring thread to this CPU (-1: the OS places it).", DefaultValueFactory = _ => -1 };

        var command = new Command(name, description);
        command.Options.Add(role);
        command.Options.Add(bufferName);
        command.Options.Add(replyName);
        command.Options.Add(frameBytes);
        command.Options.Add(payloadBytes);
        command.Options.Add(wait);
        command.Options.Add(warmup);
        command.Options.Add(seconds);
        command.Options.Add(maxSamples);
        command.Options.Add(parts);
        command.Options.Add(subscribers);
        command.Options.Add(writer);
        command.Options.Add(cpu);
        command.Options.Add(inFlight);
        command.SetAction(parseResult =>
        {
            try
            {
                var options = new PeerOptions(
                    parseResult.GetValue(role)!,
                    parseResult.GetValue(bufferName)!,
                    parseResult.GetValue(replyName),
                    parseResult.GetValue(frameBytes),
                    parseResult.GetValue(payloadBytes),
                    BenchWait.Parse(parseResult.GetValue(wait)!),
                    parseResult.GetValue(warmup),
                    parseResult.GetValue(seconds),
                    parseResult.GetValue(maxSamples),
                    parseResult.GetValue(parts),
                    parseResult.GetValue(subscribers),
                    parseResult.GetValue(writer),
                    parseResult.GetValue(cpu),
                    parseResult.GetValue(inFlight));
                PeerChannel.Begin(options);
                run(options);
                return 0;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"{name}: {e.GetType().Name}: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
