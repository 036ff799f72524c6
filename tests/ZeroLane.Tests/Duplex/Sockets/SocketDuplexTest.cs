using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.TestPeer;
using ZeroLane.Tests.CrossProcess;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Duplex.Sockets;

/// <summary>The three transports a duplex call runs over.</summary>
public enum DuplexTransport
{
    Tcp,
    Unix,
    Tls,
}

/// <summary>
/// Base for duplex-over-sockets tests: a private directory (Unix socket paths, the TLS certificate's file) removed when
/// the test ends, a self-signed certificate, servers in child processes (killed when the test ends) or in this process
/// (stopped when the test ends), and clients for each transport.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public abstract class SocketDuplexTest : PeerTest
{
    private const string TlsHost = "zerolane-test";
    private readonly TempDirectory _directory = new();
    private readonly List<IAsyncDisposable> _owned = new();
    private int _sockets;

    protected SocketDuplexTest()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + TlsHost, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(TlsHost);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    /// <summary>The server's self-signed certificate; clients pin it.</summary>
    protected X509Certificate2 Certificate { get; }

    /// <summary>Where a server listens: a TCP port on loopback, or a Unix socket path.</summary>
    internal sealed record Endpoint(DuplexTransport Transport, int Port, string? Path);

    /// <summary>
    /// Starts <c>socket-duplex-server</c> in a child process on <paramref name="transport"/> (plus options) and waits until it listens.
    /// </summary>
    internal (PeerProcess Server, Endpoint Endpoint) StartServerPeer(DuplexTransport transport, params string[] options)
    {
        string? path = transport == DuplexTransport.Unix ? NewSocketPath() : null;
        List<string> arguments = ["socket-duplex-server", path is null ? "tcp:0" : "unix:" + path, .. options];
        if (transport == DuplexTransport.Tls)
        {
            string pfx = System.IO.Path.Combine(_directory.Path, "server.pfx");
            if (!File.Exists(pfx))
            {
                File.WriteAllBytes(pfx, Certificate.Export(X509ContentType.Pkcs12));
                File.SetUnixFileMode(pfx, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            arguments.AddRange(["--tls", pfx]);
        }
        PeerProcess server = StartPeer([.. arguments]);
        string line = server.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);
        Assert.True(PeerOutput.Is(line, PeerOutput.Ready), server.Describe());
        int port = int.Parse(line.Split(' ').Single(word => word.StartsWith("port=", StringComparison.Ordinal))[5..]);
        return (server, new Endpoint(transport, port, path));
    }

    /// <summary>Starts a server in this process on <paramref name="transport"/>; stopped when the test ends.</summary>
    internal (DuplexSocketServer Server, Endpoint Endpoint) StartServer(DuplexTransport transport, DuplexAsyncSocketHandler handler, DuplexSocketServerOptions? options = null)
    {
        string? path = transport == DuplexTransport.Unix ? NewSocketPath() : null;
        MessageListener listener = path is null ? MessageListener.ListenTcp(0) : MessageListener.ListenUnix(path);
        options ??= new DuplexSocketServerOptions();
        if (transport == DuplexTransport.Tls)
        {
            options = options with { TlsCertificate = Certificate };
        }
        var server = new DuplexSocketServer(listener, handler, options);
        Own(server);
        return (server, new Endpoint(transport, listener.Port, path));
    }

    /// <summary>A client connected to <paramref name="endpoint"/>; disposed when the test ends.</summary>
    internal async Task<DuplexSocketClient> ConnectAsync(Endpoint endpoint, DuplexSocketClientOptions? options = null)
    {
        TimeSpan timeout = HangGuard;
        DuplexSocketClient client = endpoint.Transport switch
        {
            DuplexTransport.Tcp => await DuplexSocketClient.ConnectTcpAsync("127.0.0.1", endpoint.Port, timeout, options),
            DuplexTransport.Unix => await DuplexSocketClient.ConnectUnixAsync(endpoint.Path!, timeout, options),
            _ => await DuplexSocketClient.ConnectTlsAsync("127.0.0.1", endpoint.Port, TlsHost, timeout, PinnedCertificate(), options),
        };
        Own(client);
        return client;
    }

    private System.Net.Security.RemoteCertificateValidationCallback PinnedCertificate()
    {
        string thumbprint = Certificate.Thumbprint;
        return (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == thumbprint;
    }

    /// <summary>A fresh Unix socket path in the test's private directory.</summary>
    protected string NewSocketPath() => System.IO.Path.Combine(_directory.Path, $"s{Interlocked.Increment(ref _sockets)}.sock");

    protected void Own(IAsyncDisposable disposable)
    {
        lock (_owned)
        {
            _owned.Add(disposable);
        }
    }

    /// <summary>A request whose body is <paramref name="text"/> (ASCII) and whose parts are patterned, of the given lengths.</summary>
    protected static Message Request(string text, params int[] partLengths)
    {
        var parts = new ReadOnlyMemory<byte>[partLengths.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = Patterns.Create(partLengths[i], (ulong)(text.Length * 31 + i));
        }
        return Message.Create(Encoding.ASCII.GetBytes(text), parts);
    }

    protected static string BodyText(Message message) => Encoding.ASCII.GetString(message.Body.Span);

    /// <summary>Asserts that <paramref name="response"/> is an echo of <paramref name="request"/>: the same body and parts.</summary>
    protected static void AssertEcho(Message request, Message response)
    {
        Assert.Equal(BodyText(request), BodyText(response));
        Assert.Equal(request.PartCount, response.PartCount);
        for (int i = 0; i < request.PartCount; i++)
        {
            Assert.True(request.GetPart(i).Span.SequenceEqual(response.GetPart(i).Span), $"part {i} differs");
        }
    }

    public override void Dispose()
    {
        List<IAsyncDisposable> owned;
        lock (_owned)
        {
            owned = [.. _owned];
        }
        // Clients first, so servers stop without waiting on them.
        foreach (IAsyncDisposable disposable in owned.OfType<DuplexSocketClient>().Concat(owned.Where(item => item is not DuplexSocketClient)))
        {
            try
            {
                if (disposable is DuplexSocketServer server)
                {
                    server.StopAsync(TimeSpan.FromSeconds(1)).Wait(HangGuard);
                }
                else
                {
                    disposable.DisposeAsync().AsTask().Wait(HangGuard);
                }
            }
            catch (Exception)
            {
                // Cleanup must not hide the test's own failure.
            }
        }
        base.Dispose();
        _directory.Dispose();
        Certificate.Dispose();
        GC.SuppressFinalize(this);
    }
}
