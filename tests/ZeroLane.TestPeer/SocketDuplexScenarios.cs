using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.TestPeer;

/// <summary>
/// The duplex-over-sockets scenario: a <see cref="DuplexSocketServer"/> whose echo handler does what each request's
/// body asks (see <see cref="Server"/>).
/// </summary>
public static class SocketDuplexScenarios
{
    /// <summary>A body starting with this makes the handler throw <see cref="InvalidOperationException"/> with <see cref="DuplexScenarios.FailureText"/>.</summary>
    public const string Fail = "FAIL";

    /// <summary>"DELAY N ...": the handler waits N milliseconds, then echoes.</summary>
    public const string Delay = "DELAY";

    /// <summary>"HANG": the handler waits until its token is cancelled (the server stopping past its timeout), then echoes.</summary>
    public const string Hang = "HANG";

    /// <summary>"BIG N": the handler answers with one part of N bytes.</summary>
    public const string Big = "BIG";

    /// <summary>
    /// socket-duplex-server ENDPOINT [--tls PFX] [--max-concurrency N] [--max-message N] [--stop-ms N]: ENDPOINT is tcp:PORT
    /// (loopback; 0 picks one) or unix:PATH. Prints <c>READY pid=P port=N</c>, serves until "exit", then prints
    /// <c>SERVED answered=A failed=F connections=C</c> and BYE.
    /// </summary>
    internal static int Server(PeerArguments arguments, CancellationToken stop)
    {
        var options = new DuplexSocketServerOptions
        {
            MaxConcurrency = (int)(arguments.Number("max-concurrency") ?? 16),
            Limits = arguments.Number("max-message") is long max ? new MessageLimits { MaxMessageLength = max } : MessageLimits.Default,
            StopTimeout = TimeSpan.FromMilliseconds(arguments.Number("stop-ms") ?? 5000),
            TlsCertificate = arguments.Text("tls") is string pfx ? X509CertificateLoader.LoadPkcs12FromFile(pfx, null) : null,
        };
        DuplexSocketServer server;
        MessageListener listener;
        try
        {
            string endpoint = arguments.Name;
            listener = endpoint.StartsWith("unix:", StringComparison.Ordinal)
                ? MessageListener.ListenUnix(endpoint[5..])
                : endpoint.StartsWith("tcp:", StringComparison.Ordinal)
                    ? MessageListener.ListenTcp(int.Parse(endpoint[4..], CultureInfo.InvariantCulture))
                    : throw new UsageException($"endpoint '{endpoint}' is neither tcp:PORT nor unix:PATH");
            server = new DuplexSocketServer(listener, HandleAsync, options);
        }
        catch (UsageException)
        {
            throw;
        }
        catch (Exception e)
        {
            return Scenarios.SetupFailed(e);
        }
        Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId} port={listener.Port}");
        stop.WaitHandle.WaitOne();
        server.Dispose();
        Console.WriteLine($"{PeerOutput.Served} answered={server.RequestsAnswered} failed={server.RequestsFailed} connections={server.ConnectionsAccepted}");
        return Scenarios.Bye();
    }

    private static async ValueTask<Message> HandleAsync(Message request, CancellationToken cancellationToken)
    {
        string head = Encoding.ASCII.GetString(request.Body.Span[..Math.Min(32, request.Body.Length)]);
        string[] words = head.Split(' ');
        switch (words[0])
        {
            case Fail:
                throw new InvalidOperationException(DuplexScenarios.FailureText);
            case Delay:
                await Task.Delay(int.Parse(words[1], CultureInfo.InvariantCulture), cancellationToken);
                return request;
            case Hang:
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return request;
            case Big:
                byte[] big = new byte[int.Parse(words[1], CultureInfo.InvariantCulture)];
                return Message.Create(Encoding.ASCII.GetBytes("big"), big);
            default:
                return request;
        }
    }
}
