using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>What one bench peer process is asked to do; parsed from the hidden peer command's options.</summary>
/// <param name="Role">reader / writer (throughput), echo / initiator (latency); for sockets the reader and writer are the receiver and sender.</param>
/// <param name="Name">The ring buffer the peer creates or connects to, or the socket path.</param>
/// <param name="ReplyName">For ring latency: the buffer the replies travel on (created by the initiator).</param>
/// <param name="FrameBytes">Size of every data frame.</param>
/// <param name="PayloadBytes">Payload block of each ring buffer the peer creates.</param>
/// <param name="Wait">Wait strategy of both ring ends.</param>
/// <param name="WarmupSeconds">Time to run before the measured window.</param>
/// <param name="Seconds">Length of the measured window.</param>
/// <param name="MaxSamples">Capacity of the latency sample array (the window ends early when it is full).</param>
/// <param name="Parts">0: frames of raw bytes; N: each frame is a message of N parts (sent with WriteMessage, read with DecodeFrame).</param>
/// <param name="Subscribers">Topic publisher: how many subscribers to wait for before sending (0: none, not a topic row).</param>
/// <param name="Writer">
/// Topic publisher: null to copy each sample in; <c>full</c> or <c>modified</c> to send through a payload writer. Duplex
/// server: null for the echo handler (returns the request's span), <c>loan</c> for the loan handler (writes it into the loan).
/// </param>
/// <param name="Cpu">The CPU to pin the peer's measuring (main) thread to; -1: the OS places it.</param>
/// <param name="InFlight">Duplex pipelining client: requests kept in flight (0: not a pipelining row).</param>
internal sealed record PeerOptions(
    string Role,
    string Name,
    string? ReplyName,
    int FrameBytes,
    long PayloadBytes,
    WaitStrategy Wait,
    double WarmupSeconds,
    double Seconds,
    int MaxSamples,
    int Parts = 0,
    int Subscribers = 0,
    string? Writer = null,
    int Cpu = -1,
    int InFlight = 0)
{
    internal const string ReaderRole = "reader";
    internal const string WriterRole = "writer";
    internal const string EchoRole = "echo";
    internal const string InitiatorRole = "initiator";
    internal const string PublisherRole = "publisher";
    internal const string SubscriberRole = "subscriber";

    /// <summary>The parent's command line for this peer: hidden command first, then its options.</summary>
    internal IReadOnlyList<string> ToArguments(string command)
    {
        var arguments = new List<string>
        {
            command,
            "--role", Role,
            "--name", Name,
            "--frame-bytes", FrameBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--payload-bytes", PayloadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--wait", BenchWait.NameOf(Wait),
            "--warmup", WarmupSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--seconds", Seconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--max-samples", MaxSamples.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (ReplyName is not null)
        {
            arguments.Add("--reply-name");
            arguments.Add(ReplyName);
        }
        if (Parts > 0)
        {
            arguments.Add("--parts");
            arguments.Add(Parts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (Subscribers > 0)
        {
            arguments.Add("--subscribers");
            arguments.Add(Subscribers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (Cpu >= 0)
        {
            arguments.Add("--cpu");
            arguments.Add(Cpu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (InFlight > 0)
        {
            arguments.Add("--in-flight");
            arguments.Add(InFlight.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (Writer is not null)
        {
            arguments.Add("--writer");
            arguments.Add(Writer);
        }
        return arguments;
    }
}
