using System.CommandLine;
using System.Diagnostics;

namespace ZeroLane.Bench;

/// <summary>
/// <c>zerolane bench</c>: measures the ring between two processes (throughput and latency, for every wait
/// strategy), topics (one publisher to one or more subscriber processes), duplex channels (when asked), a Unix domain socket doing the same as the baseline, iceoryx as a real peer and
/// ZeroLane's Python client as the reader (when asked), and the
/// machine's own limits (memory copy bandwidth, cross-core cache-line round trip), all in one run. The peer
/// commands are what the bench's child processes run; they are not for people, so the tool registers them hidden.
/// </summary>
public static class BenchCommand
{
    /// <summary>The visible <c>bench</c> command.</summary>
    /// <param name="startTool">
    /// Makes the start info that runs the tool itself with the given arguments (a hidden peer command and its
    /// options), standard input, output and error redirected: the bench's peers are the tool relaunched.
    /// </param>
    public static Command Create(Func<IEnumerable<string>, ProcessStartInfo> startTool)
    {
        ArgumentNullException.ThrowIfNull(startTool);
        // No default value: without --sizes each part measures its own sizes, with it every part with a size dimension takes them.
        var sizes = new Option<string?>("--sizes")
        {
            Description = "Frame sizes in bytes, comma-separated (K, M and G suffixes are binary), for every part with a size dimension "
                + $"(ring, socket, messages, message-sockets, arrays, topics, iceoryx, python, python-topic, duplex, gateway); default: each part's own (ring and socket {string.Join(',', BenchSettings.DefaultSizes)}).",
        };
        var seconds = new Option<double>("--seconds")
        {
            Description = "Length of each measurement, in seconds.",
            DefaultValueFactory = _ => BenchSettings.DefaultSeconds,
        };
        var warmup = new Option<double>("--warmup")
        {
            Description = "Warm-up before each measurement (lets JIT tiering finish), in seconds.",
            DefaultValueFactory = _ => BenchSettings.DefaultWarmupSeconds,
        };
        var only = new Option<string?>("--only")
        {
            Description = $"Run only some parts: {string.Join(", ", BenchSettings.AllParts)} (comma-separated, or all; default all but "
                + $"{BenchSettings.Iceoryx}, which needs Debian's iceoryx and libiceoryx-binding-c-dev and starts iceoryx's RouDi for the run, "
                + $"and {BenchSettings.Python} and {BenchSettings.PythonTopic}, ZeroLane's Python client reading from a C# writer or publisher, which need /usr/bin/python3 and the "
                + $"package python/zerolane, from this repository or installed with pip install ./python, and {BenchSettings.Duplex}, duplex channels "
                + $"against the ring's ping-pong, which takes about two and a half minutes, and {BenchSettings.Gateway}, the NATS gateway against plain "
                + "NATS.Net and the ring bridge over TCP, which starts its own /usr/sbin/nats-server on 127.0.0.1).",
        };
        var waits = new Option<string?>("--wait")
        {
            Description = "Wait strategies to measure: busy-spin, spin-then-block, blocking (or busy, spin; comma-separated; default all).",
        };
        var repeat = new Option<int>("--repeat")
        {
            Description = "Runs of each measurement; the table shows their median and spread, and marks rows whose runs disagree.",
            DefaultValueFactory = _ => BenchSettings.DefaultRepeat,
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object per line instead of a table.",
        };

        var command = new Command("bench", "Measure ring throughput and latency between two processes against a Unix socket and the machine's limits.");
        command.Options.Add(sizes);
        command.Options.Add(seconds);
        command.Options.Add(warmup);
        command.Options.Add(only);
        command.Options.Add(waits);
        command.Options.Add(repeat);
        command.Options.Add(json);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            BenchSettings settings;
            try
            {
                settings = BenchSettings.Parse(
                    parseResult.GetValue(sizes),
                    parseResult.GetValue(seconds),
                    parseResult.GetValue(warmup),
                    parseResult.GetValue(only),
                    parseResult.GetValue(waits),
                    parseResult.GetValue(json),
                    parseResult.GetValue(repeat));
            }
            catch (ArgumentException e)
            {
                // The tool's convention for every expected error: one line 'zerolane: ...', exit code 1.
                await Console.Error.WriteLineAsync($"zerolane: {e.Message} (see 'zerolane bench --help')").ConfigureAwait(false);
                return 1;
            }
            try
            {
                await new BenchRunner(settings, startTool, Console.Out, Console.Error).RunAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException or ZeroLaneException)
            {
                await Console.Error.WriteLineAsync("zerolane: " + e.Message).ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// The commands the bench's child processes run (the tool itself, started through the <c>startTool</c> given
    /// to <see cref="Create"/>); register them on the root command, hidden.
    /// </summary>
    public static IEnumerable<Command> CreatePeerCommands()
    {
        yield return PeerCommand.Create(RingPeer.CommandName, "Bench peer over a ZeroLane ring (started by zerolane bench).", RingPeer.Run);
        yield return PeerCommand.Create(TopicPeer.CommandName, "Bench peer over a ZeroLane topic (started by zerolane bench).", TopicPeer.Run);
        yield return PeerCommand.Create(DuplexPeer.CommandName, "Bench peer over a ZeroLane duplex channel (started by zerolane bench).", DuplexPeer.Run);
        yield return PeerCommand.Create(SocketPeer.CommandName, "Bench peer over a Unix domain socket (started by zerolane bench).", SocketPeer.Run);
    }
}
