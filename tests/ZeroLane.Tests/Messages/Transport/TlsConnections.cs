using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Tests.Messages.Transport;

public sealed class TlsConnections : IDisposable
{
    private readonly X509Certificate2 _certificate;

    public TlsConnections()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=zerolane-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("zerolane-test");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public async Task MessagesRoundTripOverTlsWithAPinnedSelfSignedCertificate()
    {
        using MessageListener listener = MessageListener.ListenTcp(0);
        ValueTask<MessageConnection> accept = listener.AcceptTlsAsync(_certificate, HangGuard.Token);
        string thumbprint = _certificate.Thumbprint;
        using MessageConnection client = await MessageConnection.ConnectTlsAsync("127.0.0.1", listener.Port, "zerolane-test",
            (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == thumbprint, cancellationToken: HangGuard.Token);
        using MessageConnection server = await accept;
        Assert.True(client.IsTls);

        int[][] shapes = [[], [0, 5], [3 << 20, 17]];
        for (int i = 0; i < shapes.Length; i++)
        {
            using Message sent = TestMessages.Numbered((ulong)i, i, shapes[i]);
            Task send = client.SendAsync(sent, HangGuard.Token).AsTask();
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            await send;
            TestMessages.AssertNumbered(received, (ulong)i, i, shapes[i]);
        }
        using Message reply = TestMessages.Numbered(9, 0, 10);
        await server.SendAsync(reply, HangGuard.Token);
        using (Message got = await client.ReceiveAsync(HangGuard.Token))
        {
            TestMessages.AssertNumbered(got, 9, 0, 10);
        }

        Task serverClose = Task.Run(async () =>
        {
            Assert.Equal(ReceiveStatus.EndOfStream, (await server.TryReceiveAsync(Timeout.InfiniteTimeSpan, HangGuard.Token)).Status);
            await server.CloseAsync(HangGuard.Token);
        });
        await client.CloseAsync(HangGuard.Token);
        await serverClose;
    }

    [Fact]
    public async Task AClientWhoseCallbackRejectsTheCertificateDoesNotConnect()
    {
        using MessageListener listener = MessageListener.ListenTcp(0);
        ValueTask<MessageConnection> accept = listener.AcceptTlsAsync(_certificate, HangGuard.Token);
        await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await MessageConnection.ConnectTlsAsync("127.0.0.1", listener.Port, "zerolane-test", (_, _, _, _) => false, cancellationToken: HangGuard.Token));
        try
        {
            // With TLS 1.3 the server may finish its side of the handshake before the client refuses.
            (await accept).Dispose();
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException)
        {
        }
    }

    public void Dispose() => _certificate.Dispose();
}
