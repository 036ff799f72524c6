using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using NATS.Client.Core;
using NATS.NKeys;
using ZeroLane.Nats;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// The gateway's own NATS connection (<see cref="NatsDirectConnection"/>) against real nats-server processes on loopback
/// ports: with every kind of credentials (user and password, token, NKey seed file, TLS with a CA on a nats:// and a tls://
/// URL, mutual TLS, a .creds file on a server in operator mode) it carries a message with headers both ways to and from a
/// plain NATS.Net connection holding the same credentials; it never gets its own messages back; wrong credentials end the
/// connect at once with a one-line error; its keeper reconnects and subscribes again after the server restarts, and moves
/// to a server the cluster announced when the only one it was given dies. Every server is killed and every file deleted
/// even when a test fails. No timing is asserted: the timeouts are hang guards.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NatsDirectConnectionTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(120);

    /// <summary>Long enough never to end a connect on a loaded machine.</summary>
    private static readonly TimeSpan s_patientConnect = TimeSpan.FromSeconds(60);

    private static readonly byte[] s_headers = "NATS/1.0\r\nX-Test: 1\r\n\r\n"u8.ToArray();

    [Fact]
    public async Task WithAUserAndPasswordMessagesGoBothWaysWithNatsNet()
    {
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.UserPasswordConfig("alice", "right-pw"));

        await AssertCarriesBothWays(
            Endpoint(server.Url) with { User = "alice", Password = "right-pw" },
            new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { Username = "alice", Password = "right-pw" } });
    }

    [Fact]
    public async Task WithATokenMessagesGoBothWaysWithNatsNet()
    {
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.TokenConfig("s3cret-token"));

        await AssertCarriesBothWays(
            Endpoint(server.Url) with { Token = "s3cret-token" },
            new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { Token = "s3cret-token" } });
    }

    [Fact]
    public async Task WithAnNKeySeedFileMessagesGoBothWaysWithNatsNet()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string seed, string publicKey) = NatsServerAuth.CreateUserNKey();
        string seedFile = directory.WriteFile("user.nk", seed + "\n");
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.NKeyConfig(publicKey));

        await AssertCarriesBothWays(
            Endpoint(server.Url) with { NKeySeedFile = seedFile },
            new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { NKey = publicKey, Seed = seed } });
    }

    /// <summary><paramref name="tlsScheme"/>: the URL says tls://, else nats:// on a server that requires TLS (its INFO says so).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WithTlsVerifiedByTheGivenCaMessagesGoBothWaysWithNatsNet(bool tlsScheme)
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string caFile, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.TlsConfig(certFile, keyFile));
        string url = tlsScheme ? $"tls://127.0.0.1:{server.Port}" : server.Url;

        await AssertCarriesBothWays(
            Endpoint(url) with { TlsCaFile = caFile },
            new NatsOpts { Url = url, TlsOpts = new NatsTlsOpts { CaFile = caFile } });
    }

    [Fact]
    public async Task WithAClientCertificateOnAServerThatVerifiesClientsMessagesGoBothWaysWithNatsNet()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string caFile, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        (string clientCert, string clientKey) = NatsServerAuth.CreateClientCertificate(directory);
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.MutualTlsConfig(certFile, keyFile, caFile));

        await AssertCarriesBothWays(
            Endpoint(server.Url) with { TlsCaFile = caFile, TlsCertFile = clientCert, TlsKeyFile = clientKey },
            new NatsOpts { Url = server.Url, TlsOpts = new NatsTlsOpts { CaFile = caFile, CertFile = clientCert, KeyFile = clientKey } });
    }

    [Fact]
    public async Task WithACredsFileOnAServerInOperatorModeMessagesGoBothWaysAndNatsConnectorAcceptsItToo()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        NatsServerAuth.OperatorAccountUser keys = NatsServerAuth.CreateOperatorAccountAndUser();
        string operatorFile = directory.WriteFile("operator.jwt", keys.OperatorJwt + "\n");
        string credsFile = directory.WriteFile("user.creds", NatsServerAuth.CredsFileText(keys.UserJwt, keys.UserSeed));
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.OperatorConfig(operatorFile, keys.AccountPublicKey, keys.AccountJwt));

        await AssertCarriesBothWays(
            Endpoint(server.Url) with { CredsFile = credsFile },
            new NatsOpts { Url = server.Url, AuthOpts = new NatsAuthOpts { CredsFile = credsFile } });

        using var guard = new CancellationTokenSource(s_hangGuard);
        await using NatsConnection connection = await NatsConnector.ConnectAsync(Endpoint(server.Url) with { CredsFile = credsFile }, null, guard.Token);
        Assert.Equal(NatsConnectionState.Open, connection.ConnectionState);
        await connection.PingAsync(guard.Token);
    }

    [Fact]
    public async Task TheConnectionNeverReceivesItsOwnPublications()
    {
        using NatsServerProcess server = NatsServerProcess.Start();
        using var guard = new CancellationTokenSource(s_hangGuard);
        using var direct = new NatsDirectConnection(Endpoint(server.Url));
        direct.Connect(guard.Token);
        (RecordingReceiver receiver, string subject) = SubscribeNew(direct);
        await using var other = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-other" });

        direct.Publish(Encoding.ASCII.GetBytes(subject), s_headers, "own"u8, guard.Token);
        // The server handles the connection's commands in order: an echo of "own" would come before this PING's PONG.
        Assert.True(direct.Flush(s_hangGuard));
        await other.PublishAsync(subject, "marker"u8.ToArray(), cancellationToken: guard.Token);

        Received first = await receiver.Messages.ReadAsync(guard.Token);
        Assert.Equal("marker", Encoding.ASCII.GetString(first.Payload));
        Assert.False(receiver.Messages.TryRead(out _));
    }

    /// <summary>MSG (no headers) and HMSG, each with and without a reply subject, all reach the receiver exactly.</summary>
    [Fact]
    public async Task MessagesWithAndWithoutHeadersOrAReplySubjectArriveWhole()
    {
        using NatsServerProcess server = NatsServerProcess.Start();
        using var guard = new CancellationTokenSource(s_hangGuard);
        using var direct = new NatsDirectConnection(Endpoint(server.Url));
        direct.Connect(guard.Token);
        (RecordingReceiver receiver, string subject) = SubscribeNew(direct);
        await using var other = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-other" });

        (NatsHeaders? Headers, string? ReplyTo, byte[] Data)[] cases =
        [
            (null, null, Pattern(3000, seed: 1)),
            (null, "zltest.reply.a", Pattern(70_000, seed: 2)),
            (new NatsHeaders { ["X-Test"] = "3" }, null, Pattern(1, seed: 3)),
            (new NatsHeaders { ["X-Test"] = "4" }, "zltest.reply.b", Pattern(200_000, seed: 4)),
            (null, null, []),
        ];
        foreach ((NatsHeaders? headers, string? replyTo, byte[] data) in cases)
        {
            await other.PublishAsync(subject, data, headers, replyTo, cancellationToken: guard.Token);
        }

        foreach ((NatsHeaders? headers, _, byte[] data) in cases)
        {
            Received received = await receiver.Messages.ReadAsync(guard.Token);
            Assert.Equal(data, received.Payload);
            if (headers is null)
            {
                Assert.Null(received.Headers);
            }
            else
            {
                Assert.Contains($"\r\nX-Test: {headers["X-Test"]}\r\n", Encoding.ASCII.GetString(received.Headers!), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task AfterUnsubscribeNoMessageOfTheSubscriptionIsHandedOn()
    {
        using NatsServerProcess server = NatsServerProcess.Start();
        using var guard = new CancellationTokenSource(s_hangGuard);
        using var direct = new NatsDirectConnection(Endpoint(server.Url));
        direct.Connect(guard.Token);
        var gone = new RecordingReceiver();
        var kept = new RecordingReceiver();
        string goneSubject = NewSubject();
        string keptSubject = NewSubject();
        int sid = direct.Subscribe(goneSubject, gone);
        direct.Subscribe(keptSubject, kept);
        Assert.True(direct.Flush(s_hangGuard));
        await using var other = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-other" });

        direct.Unsubscribe(sid);
        Assert.True(direct.Flush(s_hangGuard));
        await other.PublishAsync(goneSubject, "gone"u8.ToArray(), cancellationToken: guard.Token);
        await other.PublishAsync(keptSubject, "kept"u8.ToArray(), cancellationToken: guard.Token);

        // The server handles the other connection's messages in order: "gone" would have been handed on before "kept".
        Assert.Equal("kept", Encoding.ASCII.GetString((await kept.Messages.ReadAsync(guard.Token)).Payload));
        Assert.False(gone.Messages.TryRead(out _));
    }

    [Fact]
    public void TheServersMaxPayloadIsTaken()
    {
        using NatsServerProcess server = NatsServerProcess.Start("max_payload: 4096\n");
        using var direct = new NatsDirectConnection(Endpoint(server.Url));
        direct.Connect(CancellationToken.None);

        Assert.Equal(4096, direct.MaxPayload(CancellationToken.None));
    }

    [Fact]
    public void TlsProblemsEndTheConnectAtOnceWithAOneLineError()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (_, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        using NatsServerProcess tlsServer = NatsServerProcess.Start(NatsServerAuth.TlsConfig(certFile, keyFile));
        using NatsServerProcess plainServer = NatsServerProcess.Start();
        string tlsUrl = $"tls://127.0.0.1:{tlsServer.Port}";
        string plainTlsUrl = $"tls://127.0.0.1:{plainServer.Port}";

        // The server's certificate is signed by a CA the system does not trust, and none was given.
        using var untrusted = new NatsDirectConnection(Endpoint(tlsUrl) with { ConnectTimeout = TimeSpan.FromMinutes(30) });
        NatsGatewayConnectException handshake = Assert.Throws<NatsGatewayConnectException>(() => untrusted.Connect(CancellationToken.None));
        using var noTls = new NatsDirectConnection(Endpoint(plainTlsUrl) with { ConnectTimeout = TimeSpan.FromMinutes(30) });
        NatsGatewayConnectException notOffered = Assert.Throws<NatsGatewayConnectException>(() => noTls.Connect(CancellationToken.None));

        Assert.Contains($"with NATS server {tlsUrl} failed", handshake.Message, StringComparison.Ordinal);
        Assert.Contains("--tls-ca", handshake.Message, StringComparison.Ordinal);
        Assert.Contains($"NATS server {plainTlsUrl} does not offer TLS", notOffered.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', handshake.Message);
        Assert.DoesNotContain('\n', notOffered.Message);
    }

    [Theory]
    [InlineData("password")]
    [InlineData("token")]
    [InlineData("nkey")]
    [InlineData("creds")]
    public void WrongCredentialsEndTheConnectAtOnceWithAOneLineError(string kind)
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (_, string publicKey) = NatsServerAuth.CreateUserNKey();
        NatsServerAuth.OperatorAccountUser keys = NatsServerAuth.CreateOperatorAccountAndUser();
        string config = kind switch
        {
            "password" => NatsServerAuth.UserPasswordConfig("alice", "right-pw"),
            "token" => NatsServerAuth.TokenConfig("s3cret-token"),
            "nkey" => NatsServerAuth.NKeyConfig(publicKey),
            _ => NatsServerAuth.OperatorConfig(directory.WriteFile("operator.jwt", keys.OperatorJwt + "\n"), keys.AccountPublicKey, keys.AccountJwt),
        };
        using NatsServerProcess server = NatsServerProcess.Start(config);
        NatsEndpoint endpoint = kind switch
        {
            "password" => Endpoint(server.Url) with { User = "alice", Password = "wrong-pw" },
            "token" => Endpoint(server.Url) with { Token = "other-token" },
            // A user the server does not know: its seed is not the configured key's.
            "nkey" => Endpoint(server.Url) with { NKeySeedFile = directory.WriteFile("other.nk", NatsServerAuth.CreateUserNKey().Seed + "\n") },
            // A user signed by an account the server does not know.
            _ => Endpoint(server.Url) with { CredsFile = directory.WriteFile("stranger.creds", StrangerCreds()) },
        };
        // Connect timeout beyond the test's patience: a refusal that was retried would not end.
        using var direct = new NatsDirectConnection(endpoint with { ConnectTimeout = TimeSpan.FromMinutes(30) });

        NatsGatewayConnectException error = Assert.Throws<NatsGatewayConnectException>(() => direct.Connect(CancellationToken.None));

        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
        Assert.Contains($"NATS server {server.Url} refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("other-token", error.Message, StringComparison.Ordinal);
        Assert.Null(direct.ServerUrl);
    }

    [Fact]
    public async Task AfterTheServerRestartsTheKeeperReconnectsAndSubscribesAgainWithoutAPublish()
    {
        int port = NatsServerAuth.FreeLoopbackPort();
        NatsServerProcess? server = NatsServerProcess.StartOnPort(port);
        try
        {
            using var guard = new CancellationTokenSource(s_hangGuard);
            using var direct = new NatsDirectConnection(Endpoint(server.Url) with { ReconnectWaitMax = TimeSpan.FromSeconds(1) });
            direct.Connect(guard.Token);
            var receiver = new RecordingReceiver();
            string subject = NewSubject();
            byte[] subjectBytes = Encoding.ASCII.GetBytes(subject);
            direct.Subscribe(subject, receiver);
            Assert.True(direct.Flush(s_hangGuard));
            Assert.Equal(server.Url, direct.ServerUrl);

            server.Kill();
            // The reader sees the socket close; until then a publish may still go into the dead socket's buffer.
            while (direct.ServerUrl is not null)
            {
                await Task.Delay(20, guard.Token);
            }
            Assert.Throws<IOException>(() => direct.Publish(subjectBytes, s_headers, "while-down"u8, guard.Token));
            Assert.Throws<IOException>(() => direct.Publish(subjectBytes, s_headers, "while-down"u8, guard.Token));
            Assert.NotNull(direct.LastError);

            server.Dispose();
            server = null;
            server = NatsServerProcess.StartOnPort(port);
            await using var publisher = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-pub" });

            // Nothing is published on the direct connection: only its keeper can have reconnected and subscribed again.
            Received after = await PublishUntilReceived(publisher, receiver, subject, "after-restart", guard.Token);
            Assert.Equal("after-restart", Encoding.ASCII.GetString(after.Payload));
            await WaitUntilReconnected(direct, guard.Token);
            Assert.Equal(server.Url, direct.ServerUrl);

            // And it publishes again.
            await using INatsSub<byte[]> subscription = await publisher.SubscribeCoreAsync<byte[]>(subject, cancellationToken: guard.Token);
            await publisher.PingAsync(guard.Token);
            direct.Publish(subjectBytes, s_headers, "from-direct"u8, guard.Token);
            Assert.Equal("from-direct", Encoding.ASCII.GetString(await NextData(subscription, "from-direct", guard.Token)));
        }
        finally
        {
            server?.Dispose();
        }
    }

    /// <summary>A seed file that no longer holds a seed (or is gone) when the connection is made is named as a credentials problem, not an unreachable server.</summary>
    [Fact]
    public void ASeedFileThatNoLongerHoldsASeedIsNamedAsACredentialsError()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        string seedFile = directory.WriteFile("user.nk", "not a seed\n");
        string gone = directory.PathOf("gone.nk");
        using NatsServerProcess server = NatsServerProcess.Start();
        foreach ((string file, string expected) in new[] { (seedFile, "holds no user seed"), (gone, "gone.nk") })
        {
            using var direct = new NatsDirectConnection(Endpoint(server.Url) with { NKeySeedFile = file });
            NatsGatewayConnectException error = Assert.Throws<NatsGatewayConnectException>(() => direct.Connect(CancellationToken.None));
            Assert.Contains($"could not use '{file}'", error.Message, StringComparison.Ordinal);
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.Contains("check --nkey", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
    }

    [Fact]
    public void UnusableCredentialOrTlsFilesEndTheConnectWithAOneLineError()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string caFile, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        (string clientCert, _) = NatsServerAuth.CreateClientCertificate(directory);
        string badKey = directory.WriteFile("bad-client.key", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        string badSeedCreds = directory.WriteFile("bad-seed.creds",
            NatsServerAuth.CredsFileText(NatsServerAuth.CreateOperatorAccountAndUser().UserJwt, "SUNOTAVALIDSEED"));
        using NatsServerProcess tlsServer = NatsServerProcess.Start(NatsServerAuth.TlsConfig(certFile, keyFile));
        using NatsServerProcess plainServer = NatsServerProcess.Start();
        NatsEndpoint[] endpoints =
        [
            Endpoint(tlsServer.Url) with { TlsCaFile = caFile, TlsCertFile = clientCert, TlsKeyFile = badKey },
            Endpoint(plainServer.Url) with { CredsFile = badSeedCreds },
        ];

        foreach (NatsEndpoint endpoint in endpoints)
        {
            using var direct = new NatsDirectConnection(endpoint with { ConnectTimeout = TimeSpan.FromMinutes(30) });
            NatsGatewayConnectException error = Assert.Throws<NatsGatewayConnectException>(() => direct.Connect(CancellationToken.None));
            Assert.Contains("could not use its credentials or TLS files", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
    }

    /// <summary>
    /// A client key that became unusable while the server was away (replaced on disk) is said in LastError; the keeper goes on
    /// trying (it does not end, nor take the process with it) and reconnects once the file is good again.
    /// </summary>
    [Fact]
    public async Task AKeyFileThatBreaksWhileDisconnectedIsReportedAndTheKeeperCarriesOn()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string caFile, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        (string clientCert, string clientKey) = NatsServerAuth.CreateClientCertificate(directory);
        string config = NatsServerAuth.MutualTlsConfig(certFile, keyFile, caFile);
        int port = NatsServerAuth.FreeLoopbackPort();
        NatsServerProcess? server = NatsServerProcess.StartOnPort(port, config);
        try
        {
            using var guard = new CancellationTokenSource(s_hangGuard);
            using var direct = new NatsDirectConnection(Endpoint(server.Url) with
            {
                TlsCaFile = caFile, TlsCertFile = clientCert, TlsKeyFile = clientKey, ReconnectWaitMax = TimeSpan.FromSeconds(1),
            });
            direct.Connect(guard.Token);
            (RecordingReceiver receiver, string subject) = SubscribeNew(direct);
            string goodKey = File.ReadAllText(clientKey);

            File.WriteAllText(clientKey, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
            server.Kill();
            server.Dispose();
            server = null;
            server = NatsServerProcess.StartOnPort(port, config);
            while (direct.LastError?.Contains("could not use its credentials or TLS files", StringComparison.Ordinal) != true)
            {
                await Task.Delay(20, guard.Token);
            }
            File.WriteAllText(clientKey, goodKey);

            await using var publisher = new NatsConnection(new NatsOpts
            {
                Url = server.Url,
                Name = "zltest-pub",
                TlsOpts = new NatsTlsOpts { CaFile = caFile, CertFile = clientCert, KeyFile = clientKey },
            });
            await PublishUntilReceived(publisher, receiver, subject, "after-repair", guard.Token);
            await WaitUntilReconnected(direct, guard.Token);
        }
        finally
        {
            server?.Dispose();
        }
    }

    [Fact]
    public async Task WhenTheOnlyServerGivenDiesItMovesToOneTheClusterAnnounced()
    {
        NatsServerProcess[] nodes = NatsServerProcess.StartCluster(3);
        try
        {
            using var guard = new CancellationTokenSource(s_hangGuard);
            // Connect once node 0 announces the other two, so its first INFO names them.
            while (!AnnouncesEveryOther(nodes))
            {
                await Task.Delay(50, guard.Token);
            }
            using var direct = new NatsDirectConnection(Endpoint(nodes[0].Url) with { ReconnectWaitMax = TimeSpan.FromSeconds(1) });
            direct.Connect(guard.Token);
            (RecordingReceiver receiver, string subject) = SubscribeNew(direct);
            await using var publisher = new NatsConnection(new NatsOpts { Url = nodes[2].Url, Name = "zltest-pub" });
            await PublishUntilReceived(publisher, receiver, subject, "before", guard.Token);

            nodes[0].Kill();
            Received after = await PublishUntilReceived(publisher, receiver, subject, "after", guard.Token);

            Assert.Equal("after", Encoding.ASCII.GetString(after.Payload));
            await WaitUntilReconnected(direct, guard.Token);
            string? now = direct.ServerUrl;
            Assert.Contains(now, new[] { nodes[1].Url, nodes[2].Url });

            // It publishes through the new node as well.
            await using INatsSub<byte[]> subscription = await publisher.SubscribeCoreAsync<byte[]>(subject, cancellationToken: guard.Token);
            await publisher.PingAsync(guard.Token);
            byte[] subjectBytes = Encoding.ASCII.GetBytes(subject);
            while (true)
            {
                direct.Publish(subjectBytes, s_headers, "from-direct"u8, guard.Token);
                using var look = CancellationTokenSource.CreateLinkedTokenSource(guard.Token);
                look.CancelAfter(TimeSpan.FromMilliseconds(200));
                try
                {
                    Assert.Equal("from-direct", Encoding.ASCII.GetString(await NextData(subscription, "from-direct", look.Token)));
                    break;
                }
                catch (OperationCanceledException) when (!guard.IsCancellationRequested)
                {
                    // The subscription has not reached the direct connection's node yet: publish again.
                }
            }
        }
        finally
        {
            NatsServerProcess.DisposeAll(nodes);
        }
    }

    /// <summary>
    /// A message of a subscription the connect just made can reach the client before the PONG that ends the connect (a real
    /// server sends it when another client publishes while it processes the SUB): a scripted server on a loopback socket
    /// sends exactly that, with a payload longer than any line, and the connect must hand it on whole, not read it as lines.
    /// </summary>
    [Fact]
    public async Task AMessageThatComesBeforeTheConnectsPongIsHandedOnWhole()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var guard = new CancellationTokenSource(s_hangGuard);
        byte[] payload = new byte[100_000];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)('a' + (i % 26));
        }
        string subject = NewSubject();
        Task server = Task.Run(async () =>
        {
            using Socket client = await listener.AcceptSocketAsync(guard.Token);
            await using var stream = new NetworkStream(client);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await stream.WriteAsync("INFO {\"server_id\":\"scripted\",\"version\":\"2.9.10\",\"proto\":1,\"headers\":true,\"max_payload\":1048576}\r\n"u8.ToArray(), guard.Token);
            while (await reader.ReadLineAsync(guard.Token) is { } line && line != "PING")
            {
                // CONNECT, then the SUB.
            }
            byte[] message = [.. Encoding.ASCII.GetBytes($"HMSG {subject} 1 {s_headers.Length} {s_headers.Length + payload.Length}\r\n"), .. s_headers, .. payload,
                .. "\r\nPONG\r\n"u8.ToArray()];
            await stream.WriteAsync(message, guard.Token);
            // Then an ordinary server: PONG for every PING, until the client goes.
            while (await reader.ReadLineAsync(guard.Token) is { } line)
            {
                if (line == "PING")
                {
                    await stream.WriteAsync("PONG\r\n"u8.ToArray(), guard.Token);
                }
            }
        }, guard.Token);
        try
        {
            var receiver = new RecordingReceiver();
            using (var direct = new NatsDirectConnection(Endpoint($"nats://127.0.0.1:{port}")))
            {
                direct.Subscribe(subject, receiver);
                direct.Connect(guard.Token);

                Received received = await receiver.Messages.ReadAsync(guard.Token);
                Assert.Equal(payload, received.Payload);
                Assert.Equal(s_headers, received.Headers);
                // Still in step with the server: a PING of its own is answered.
                Assert.True(direct.Flush(s_hangGuard));
            }
            await server.WaitAsync(guard.Token);
        }
        finally
        {
            await guard.CancelAsync();
            await Task.WhenAny(server);
        }
    }

    [Fact]
    public void ACredsFileGivesItsJwtAndSeed()
    {
        (string jwt, string seed) = NatsDirectConnection.ParseCreds(
            "-----BEGIN NATS USER JWT-----\neyJhbGciOi.eyJqdGkiOi.c2ln\n------END NATS USER JWT------\n\n" +
            "************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n" +
            "-----BEGIN USER NKEY SEED-----\nSUAFAKESEEDFORTHEPARSER\n------END USER NKEY SEED------\n",
            "/tmp/u.creds");

        Assert.Equal("eyJhbGciOi.eyJqdGkiOi.c2ln", jwt);
        Assert.Equal("SUAFAKESEEDFORTHEPARSER", seed);
    }

    [Fact]
    public void ACredsFileWithCrLfLineEndsGivesItsJwtAndSeed()
    {
        (string jwt, string seed) = NatsDirectConnection.ParseCreds(
            "-----BEGIN NATS USER JWT-----\r\neyJ.a.b\r\n------END NATS USER JWT------\r\n\r\n-----BEGIN USER NKEY SEED-----\r\nSUXYZ\r\n------END USER NKEY SEED------\r\n",
            "/tmp/u.creds");

        Assert.Equal("eyJ.a.b", jwt);
        Assert.Equal("SUXYZ", seed);
    }

    [Theory]
    [InlineData("-----BEGIN NATS USER JWT-----\neyJ.a.b\n------END NATS USER JWT------\n")]
    [InlineData("-----BEGIN USER NKEY SEED-----\nSUXYZ\n------END USER NKEY SEED------\n")]
    [InlineData("-----BEGIN NATS USER JWT-----\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\nSUXYZ\n------END USER NKEY SEED------\n")]
    [InlineData("-----BEGIN NATS USER JWT-----\neyJ.a.b\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\nUABCPUBLICKEY\n------END USER NKEY SEED------\n")]
    [InlineData("")]
    public void ACredsFileWithoutAJwtOrASeedIsNamed(string text)
    {
        const string path = "/srv/keys/gateway.creds";

        NatsGatewayConnectException error = Assert.Throws<NatsGatewayConnectException>(() => NatsDirectConnection.ParseCreds(text, path));

        Assert.Contains($"NATS creds file '{path}' is not a .creds file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    /// <summary>
    /// Subscribes the direct connection and a plain NATS.Net one to a subject; a message with headers published on the direct
    /// connection reaches NATS.Net whole, and one NATS.Net publishes reaches the direct connection's receiver whole.
    /// </summary>
    private static async Task AssertCarriesBothWays(NatsEndpoint endpoint, NatsOpts plainOpts)
    {
        using var guard = new CancellationTokenSource(s_hangGuard);
        using var direct = new NatsDirectConnection(endpoint);
        direct.Connect(guard.Token);
        Assert.NotNull(direct.ServerUrl);
        (RecordingReceiver receiver, string subject) = SubscribeNew(direct);
        await using var plain = new NatsConnection(plainOpts with { Name = "zltest-plain", ConnectTimeout = s_patientConnect });
        await using INatsSub<byte[]> subscription = await plain.SubscribeCoreAsync<byte[]>(subject, cancellationToken: guard.Token);
        // The server has the subscription once it answers a PING sent after it.
        await plain.PingAsync(guard.Token);

        // CRLFs and every byte value in the payload: it must arrive exactly, not as lines.
        byte[] payload = Pattern(100_003, seed: 7);
        direct.Publish(Encoding.ASCII.GetBytes(subject), s_headers, payload, guard.Token);
        NatsMsg<byte[]> message = await subscription.Msgs.ReadAsync(guard.Token);
        Assert.Equal(payload, message.Data);
        Assert.NotNull(message.Headers);
        Assert.Equal("1", message.Headers["X-Test"].ToString());

        byte[] back = Pattern(65_537, seed: 11);
        await plain.PublishAsync(subject, back, new NatsHeaders { ["X-Test"] = "2" }, cancellationToken: guard.Token);
        Received received = await receiver.Messages.ReadAsync(guard.Token);
        Assert.Equal(back, received.Payload);
        Assert.NotNull(received.Headers);
        string block = Encoding.ASCII.GetString(received.Headers);
        Assert.StartsWith("NATS/1.0", block, StringComparison.Ordinal);
        Assert.Contains("\r\nX-Test: 2\r\n", block, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", block, StringComparison.Ordinal);
        // Nothing else came: not its own message back.
        Assert.False(receiver.Messages.TryRead(out _));
    }

    /// <summary>
    /// Publishes <paramref name="text"/> with NATS.Net again and again until the receiver has it (a reconnect or a route may
    /// still be settling); earlier messages are skipped.
    /// </summary>
    private static async Task<Received> PublishUntilReceived(NatsConnection publisher, RecordingReceiver receiver, string subject, string text,
        CancellationToken cancellationToken)
    {
        byte[] data = Encoding.ASCII.GetBytes(text);
        while (true)
        {
            await publisher.PublishAsync(subject, data, cancellationToken: cancellationToken);
            using var look = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            look.CancelAfter(TimeSpan.FromMilliseconds(200));
            try
            {
                while (true)
                {
                    Received message = await receiver.Messages.ReadAsync(look.Token);
                    if (message.Payload.AsSpan().SequenceEqual(data))
                    {
                        return message;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Nothing yet: publish again.
            }
        }
    }

    /// <summary>
    /// Waits until the reconnect is counted and the new server is current: a connect hands on messages (its reader starts)
    /// a moment before it takes the connection as its own, so a message received does not yet mean either.
    /// </summary>
    private static async Task WaitUntilReconnected(NatsDirectConnection direct, CancellationToken cancellationToken)
    {
        while (direct.Reconnects < 1 || direct.ServerUrl is null)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>The data of the next message of <paramref name="subscription"/> that is <paramref name="text"/>; others are skipped.</summary>
    private static async Task<byte[]> NextData(INatsSub<byte[]> subscription, string text, CancellationToken cancellationToken)
    {
        while (true)
        {
            NatsMsg<byte[]> message = await subscription.Msgs.ReadAsync(cancellationToken);
            if (message.Data is { } data && Encoding.ASCII.GetString(data) == text)
            {
                return data;
            }
        }
    }

    /// <summary>Whether node 0's INFO (to a new client) lists the client URLs of every other node.</summary>
    private static bool AnnouncesEveryOther(NatsServerProcess[] nodes)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        socket.Connect(IPAddress.Loopback, nodes[0].Port);
        var line = new List<byte>();
        byte[] one = new byte[1];
        while (line.Count < 2 || line[^2] != '\r' || line[^1] != '\n')
        {
            if (socket.Receive(one) == 0)
            {
                return false;
            }
            line.Add(one[0]);
        }
        string info = Encoding.UTF8.GetString([.. line]).Trim();
        using JsonDocument document = JsonDocument.Parse(info["INFO ".Length..]);
        if (!document.RootElement.TryGetProperty("connect_urls", out JsonElement urls) || urls.ValueKind != JsonValueKind.Array)
        {
            return false;
        }
        List<string> announced = [.. urls.EnumerateArray().Select(url => url.GetString() ?? "")];
        return nodes.Skip(1).All(node => announced.Contains($"127.0.0.1:{node.Port}"));
    }

    /// <summary>A creds file of a user signed by an account no server here knows.</summary>
    private static string StrangerCreds()
    {
        using KeyPair account = KeyPair.CreatePair(PrefixByte.Account);
        (string jwt, string seed) = NatsServerAuth.CreateUser(account);
        return NatsServerAuth.CredsFileText(jwt, seed);
    }

    private static NatsEndpoint Endpoint(string url) => NatsEndpoint.Parse(url) with { ConnectTimeout = s_patientConnect, Name = "zltest-direct" };

    /// <summary>Subscribes a new receiver to a new subject and waits until the server has the subscription.</summary>
    private static (RecordingReceiver Receiver, string Subject) SubscribeNew(NatsDirectConnection direct)
    {
        var receiver = new RecordingReceiver();
        string subject = NewSubject();
        direct.Subscribe(subject, receiver);
        Assert.True(direct.Flush(s_hangGuard), "the subscription did not reach the server");
        return (receiver, subject);
    }

    private static string NewSubject() => "zltest.direct." + Guid.NewGuid().ToString("N");

    private static byte[] Pattern(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        if (length >= 2)
        {
            "\r\n"u8.CopyTo(bytes.AsSpan(length / 2));
        }
        return bytes;
    }

    /// <summary>One message as the receiver got it: a copy of its header block (null without) and of its payload.</summary>
    private sealed record Received(byte[]? Headers, byte[] Payload);

    /// <summary>Copies every message it is handed (on the connection's reader thread) into a channel the test reads.</summary>
    private sealed class RecordingReceiver : IRawMessageReceiver
    {
        private readonly Channel<Received> _messages = Channel.CreateUnbounded<Received>();

        internal ChannelReader<Received> Messages => _messages.Reader;

        public void Receive(ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload) =>
            _messages.Writer.TryWrite(new Received(headers?.ToArray(), payload.ToArray()));
    }
}
