using NATS.Client.Core;
using ZeroLane.Nats;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// How a gateway connects to NATS (issue 13, point 5), against real nats-server processes on loopback ports: each kind of
/// credentials accepted, wrong ones refused at once with a one-line error, TLS verified with a CA made by openssl for the
/// test, unreachable servers reported after the connect timeout, failover to the next URL, the client name in the
/// server's monitoring, and reconnects counted. Every server is killed and every file deleted even when a test fails. No
/// timing is asserted: the timeouts are hang guards (a refusal that was retried instead would end in the guard's
/// cancellation, not in the expected exception).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NatsConnectorTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(90);

    /// <summary>Long enough never to end a test that connects on a loaded machine; an attempt that should fail at once must not wait for it.</summary>
    private static readonly TimeSpan s_patientConnect = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AUserAndPasswordTheServerKnowsAreAccepted()
    {
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.UserPasswordConfig("alice", "right-pw"));
        using var guard = new CancellationTokenSource(s_hangGuard);

        await using NatsConnection connection = await NatsConnector.ConnectAsync(
            Endpoint(server.Url) with { User = "alice", Password = "right-pw" }, null, guard.Token);

        await AssertUsable(connection, guard.Token);
    }

    [Fact]
    public async Task AWrongPasswordIsRefusedAtOnceWithAOneLineError()
    {
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.UserPasswordConfig("alice", "right-pw"));
        using var guard = new CancellationTokenSource(s_hangGuard);
        // Connect timeout beyond the guard: a retried refusal would be cancelled by the guard instead of throwing this.
        NatsEndpoint endpoint = Endpoint(server.Url) with { User = "alice", Password = "wrong-pw", ConnectTimeout = TimeSpan.FromMinutes(30) };

        NatsGatewayConnectException error = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(endpoint, null, guard.Token));

        AssertOneLine(error.Message);
        Assert.Contains($"NATS server {server.Url} refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.Contains("authorization violation", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("--user/--password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCredentialsForAServerThatRequiresThemAreRefusedAtOnce()
    {
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.TokenConfig("s3cret-token"));
        using var guard = new CancellationTokenSource(s_hangGuard);

        NatsGatewayConnectException error = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(Endpoint(server.Url) with { ConnectTimeout = TimeSpan.FromMinutes(30) }, null, guard.Token));

        AssertOneLine(error.Message);
        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheRightTokenIsAcceptedAndAWrongOneRefused()
    {
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.TokenConfig("s3cret-token"));
        using var guard = new CancellationTokenSource(s_hangGuard);

        await using (NatsConnection connection = await NatsConnector.ConnectAsync(Endpoint(server.Url) with { Token = "s3cret-token" }, null, guard.Token))
        {
            await AssertUsable(connection, guard.Token);
        }
        NatsGatewayConnectException error = await Assert.ThrowsAsync<NatsGatewayConnectException>(() => NatsConnector.ConnectAsync(
            Endpoint(server.Url) with { Token = "other-token", ConnectTimeout = TimeSpan.FromMinutes(30) }, null, guard.Token));
        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.Contains("--token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnNKeySeedFileOfAUserTheServerKnowsIsAcceptedAndAnotherRefused()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string seed, string publicKey) = NatsServerAuth.CreateUserNKey();
        (string otherSeed, _) = NatsServerAuth.CreateUserNKey();
        string seedFile = directory.WriteFile("user.nk", seed + "\n");
        string otherSeedFile = directory.WriteFile("other.nk", otherSeed + "\n");
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.NKeyConfig(publicKey));
        using var guard = new CancellationTokenSource(s_hangGuard);

        await using (NatsConnection connection = await NatsConnector.ConnectAsync(Endpoint(server.Url) with { NKeySeedFile = seedFile }, null, guard.Token))
        {
            await AssertUsable(connection, guard.Token);
        }
        NatsGatewayConnectException error = await Assert.ThrowsAsync<NatsGatewayConnectException>(() => NatsConnector.ConnectAsync(
            Endpoint(server.Url) with { NKeySeedFile = otherSeedFile, ConnectTimeout = TimeSpan.FromMinutes(30) }, null, guard.Token));
        AssertOneLine(error.Message);
        Assert.Contains("refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.Contains("--nkey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnNKeyFileWithoutASeedOrMissingIsNamedBeforeAnyConnect()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (_, string publicKey) = NatsServerAuth.CreateUserNKey();
        string publicOnly = directory.WriteFile("public.nk", publicKey + "\n");
        string corrupt = directory.WriteFile("corrupt.nk", "SUNOTAVALIDSEED\n");
        string missing = directory.PathOf("missing.nk");
        // No server at all: the files are checked first, so these errors cannot be "unreachable".
        NatsEndpoint endpoint = Endpoint($"nats://127.0.0.1:{NatsServerAuth.FreeLoopbackPort()}");

        NatsGatewayConnectException noSeed = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(endpoint with { NKeySeedFile = publicOnly }, null, CancellationToken.None));
        NatsGatewayConnectException badSeed = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(endpoint with { NKeySeedFile = corrupt }, null, CancellationToken.None));
        NatsGatewayConnectException noFile = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(endpoint with { NKeySeedFile = missing }, null, CancellationToken.None));

        Assert.Contains("holds no user seed", noSeed.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid user seed", badSeed.Message, StringComparison.Ordinal);
        Assert.Contains($"'{missing}' does not exist: check --nkey", noFile.Message, StringComparison.Ordinal);
        AssertOneLine(noSeed.Message);
        AssertOneLine(badSeed.Message);
    }

    [Fact]
    public async Task AMissingOrMalformedCredsFileIsNamedBeforeAnyConnect()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        string malformed = directory.WriteFile("bad.creds", "-----BEGIN NATS USER JWT-----\nnot-a-jwt\n------END NATS USER JWT------\n");
        string missing = directory.PathOf("missing.creds");
        NatsEndpoint endpoint = Endpoint($"nats://127.0.0.1:{NatsServerAuth.FreeLoopbackPort()}");

        NatsGatewayConnectException bad = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(endpoint with { CredsFile = malformed }, null, CancellationToken.None));
        NatsGatewayConnectException absent = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(endpoint with { CredsFile = missing }, null, CancellationToken.None));

        Assert.Contains($"'{malformed}' is not a .creds file", bad.Message, StringComparison.Ordinal);
        Assert.Contains($"'{missing}' does not exist: check --creds", absent.Message, StringComparison.Ordinal);
        AssertOneLine(bad.Message);
        AssertOneLine(absent.Message);
    }

    [Fact]
    public async Task TlsIsVerifiedWithTheGivenCaAndRefusedWithoutIt()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string caFile, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.TlsConfig(certFile, keyFile));
        using var guard = new CancellationTokenSource(s_hangGuard);
        string tlsUrl = $"tls://127.0.0.1:{server.Port}";

        await using (NatsConnection connection = await NatsConnector.ConnectAsync(Endpoint(server.Url) with { TlsCaFile = caFile }, null, guard.Token))
        {
            await AssertUsable(connection, guard.Token);
            Assert.True(connection.ServerInfo?.TlsRequired);
        }
        await using (NatsConnection connection = await NatsConnector.ConnectAsync(Endpoint(tlsUrl) with { TlsCaFile = caFile }, null, guard.Token))
        {
            await AssertUsable(connection, guard.Token);
        }
        NatsGatewayConnectException error = await Assert.ThrowsAsync<NatsGatewayConnectException>(() => NatsConnector.ConnectAsync(
            Endpoint(tlsUrl) with { ConnectTimeout = TimeSpan.FromMinutes(30) }, null, guard.Token));
        AssertOneLine(error.Message);
        Assert.Contains($"TLS handshake with NATS server {tlsUrl} failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("--tls-ca", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientCertificateIsPresentedToAServerThatVerifiesClientsAndItsAbsenceNamed()
    {
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string caFile, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        (string clientCert, string clientKey) = NatsServerAuth.CreateClientCertificate(directory);
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.MutualTlsConfig(certFile, keyFile, caFile));
        using var guard = new CancellationTokenSource(s_hangGuard);

        await using (NatsConnection connection = await NatsConnector.ConnectAsync(
            Endpoint(server.Url) with { TlsCaFile = caFile, TlsCertFile = clientCert, TlsKeyFile = clientKey }, null, guard.Token))
        {
            await AssertUsable(connection, guard.Token);
        }
        NatsGatewayConnectException error = await Assert.ThrowsAsync<NatsGatewayConnectException>(() => NatsConnector.ConnectAsync(
            Endpoint(server.Url) with { TlsCaFile = caFile, ConnectTimeout = TimeSpan.FromMinutes(30) }, null, guard.Token));
        AssertOneLine(error.Message);
        Assert.Contains("requires a client certificate", error.Message, StringComparison.Ordinal);
        Assert.Contains("--tls-cert and --tls-key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheConnectionNeverReceivesItsOwnPublications()
    {
        using NatsServerProcess server = NatsServerProcess.Start();
        using var guard = new CancellationTokenSource(s_hangGuard);
        await using NatsConnection gateway = await NatsConnector.ConnectAsync(Endpoint(server.Url), null, guard.Token);
        await using var other = new NatsConnection(new NatsOpts { Url = server.Url, Name = "zltest-other" });
        string subject = NatsSubjects.ForTopic("echo.check");
        await using INatsSub<string> subscription = await gateway.SubscribeCoreAsync<string>(subject, cancellationToken: guard.Token);
        await gateway.PingAsync(guard.Token);

        await gateway.PublishAsync(subject, "own", cancellationToken: guard.Token);
        // The server handles one connection's commands in order: an echo of "own" would be sent before this ping's answer.
        await gateway.PingAsync(guard.Token);
        await other.PublishAsync(subject, "other", cancellationToken: guard.Token);

        Assert.Equal("other", (await subscription.Msgs.ReadAsync(guard.Token)).Data);
    }

    [Fact]
    public async Task UnreachableServersGiveOneLineErrorAfterTheConnectTimeout()
    {
        string first = $"nats://127.0.0.1:{NatsServerAuth.FreeLoopbackPort()}";
        string second = $"nats://127.0.0.1:{NatsServerAuth.FreeLoopbackPort()}";
        using var guard = new CancellationTokenSource(s_hangGuard);
        NatsEndpoint endpoint = NatsEndpoint.Parse($"{first},{second}") with { ConnectTimeout = TimeSpan.FromSeconds(1) };

        NatsGatewayConnectException error = await Assert.ThrowsAsync<NatsGatewayConnectException>(
            () => NatsConnector.ConnectAsync(endpoint, null, guard.Token));

        AssertOneLine(error.Message);
        Assert.Equal($"Could not reach any NATS server ({first}, {second}) within 1 s: connection refused. Start nats-server or fix --nats.", error.Message);
    }

    [Fact]
    public async Task CancellingStopsTheRetriesOfAnUnreachableServer()
    {
        NatsEndpoint endpoint = Endpoint($"nats://127.0.0.1:{NatsServerAuth.FreeLoopbackPort()}") with { ConnectTimeout = TimeSpan.FromMinutes(30) };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NatsConnector.ConnectAsync(endpoint, null, cancel.Token));
    }

    [Fact]
    public async Task WithTheFirstServerDownTheNextUrlIsUsed()
    {
        using NatsServerProcess server = NatsServerProcess.Start();
        using var guard = new CancellationTokenSource(s_hangGuard);
        string dead = $"nats://127.0.0.1:{NatsServerAuth.FreeLoopbackPort()}";

        await using NatsConnection connection = await NatsConnector.ConnectAsync(
            NatsEndpoint.Parse($"{dead},{server.Url}") with { ConnectTimeout = s_patientConnect }, null, guard.Token);

        await AssertUsable(connection, guard.Token);
        Assert.Equal(server.Port, connection.ServerInfo?.Port);
    }

    [Fact]
    public async Task TheNameIsShownInTheServersMonitoring()
    {
        int httpPort = NatsServerAuth.FreeLoopbackPort();
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.MonitoringConfig(httpPort));
        using var guard = new CancellationTokenSource(s_hangGuard);
        string name = $"zltest-gw-{Guid.NewGuid():N}";

        await using NatsConnection connection = await NatsConnector.ConnectAsync(Endpoint(server.Url) with { Name = name }, null, guard.Token);
        await connection.PingAsync(guard.Token);

        // The server lists a connection once it has processed its CONNECT, which the ping above follows; poll anyway, under the guard.
        while (!(await NatsServerAuth.ConnectionNamesAsync(httpPort, guard.Token)).Contains(name))
        {
            await Task.Delay(50, guard.Token);
        }
    }

    [Fact]
    public async Task AReconnectToAnotherNodeIsCounted()
    {
        NatsServerProcess[] nodes = NatsServerProcess.StartCluster(2);
        try
        {
            using var guard = new CancellationTokenSource(s_hangGuard);
            await using NatsConnection connection = await NatsConnector.ConnectAsync(
                NatsEndpoint.Parse(string.Join(",", nodes.Select(node => node.Url))) with { ConnectTimeout = s_patientConnect }, null, guard.Token);
            Assert.Equal(nodes[0].Port, connection.ServerInfo?.Port);
            int reconnects = 0;
            var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using IDisposable tracking = NatsConnector.TrackReconnects(connection, () =>
            {
                Interlocked.Increment(ref reconnects);
                reconnected.TrySetResult();
            });

            nodes[0].Kill();
            await reconnected.Task.WaitAsync(guard.Token);

            Assert.True(Volatile.Read(ref reconnects) >= 1);
            await AssertUsable(connection, guard.Token);
            Assert.Equal(nodes[1].Port, connection.ServerInfo?.Port);
        }
        finally
        {
            NatsServerProcess.DisposeAll(nodes);
        }
    }

    private static NatsEndpoint Endpoint(string url) => NatsEndpoint.Parse(url) with { ConnectTimeout = s_patientConnect };

    /// <summary>The connection is open and the server answers a ping through it.</summary>
    private static async Task AssertUsable(NatsConnection connection, CancellationToken cancellationToken)
    {
        Assert.Equal(NatsConnectionState.Open, connection.ConnectionState);
        await connection.PingAsync(cancellationToken);
    }

    private static void AssertOneLine(string message)
    {
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\r', message);
    }
}
