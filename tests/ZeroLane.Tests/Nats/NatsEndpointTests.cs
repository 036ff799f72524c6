using System.CommandLine;
using NATS.Client.Core;
using ZeroLane.Cli;
using ZeroLane.Nats;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// <see cref="NatsEndpoint"/> (issue 13, point 5): <c>--nats URL[,URL...]</c> parsed and checked with messages that name the
/// bad URL, credentials of one kind only, and the NATS.Net options it becomes (never echoed, never shuffled); the CLI's
/// options build the same endpoint. No server needed: <see cref="NatsConnectorTests"/> connects for real.
/// </summary>
public sealed class NatsEndpointTests
{
    [Fact]
    public void ParseKeepsSeveralUrlsInTheOrderGiven()
    {
        NatsEndpoint endpoint = NatsEndpoint.Parse("nats://127.0.0.1:4300, tls://example.org:4301,nats://[::1]:4302");

        Assert.Equal(["nats://127.0.0.1:4300", "tls://example.org:4301", "nats://[::1]:4302"], endpoint.Urls);
    }

    [Fact]
    public void ParseGivesAUrlWithoutAPortTheNatsPort()
    {
        Assert.Equal(["nats://nats.example.org:4222"], NatsEndpoint.Parse("NATS://nats.example.org").Urls);
    }

    [Theory]
    [InlineData("http://127.0.0.1:4222", "http://127.0.0.1:4222", "scheme 'http'")]
    [InlineData("127.0.0.1:4222", "127.0.0.1:4222", "nats://HOST:PORT")]
    [InlineData("nats://127.0.0.1:4222,,nats://127.0.0.1:4223", "''", "empty")]
    [InlineData("nats://127.0.0.1:99999", "nats://127.0.0.1:99999", "port")]
    [InlineData("nats://127.0.0.1:0", "nats://127.0.0.1:0", "port 0")]
    [InlineData("nats://127.0.0.1:4222/sub", "nats://127.0.0.1:4222/sub", "path")]
    [InlineData("nats://127.0.0.1:4222,ftp://h:1", "ftp://h:1", "scheme 'ftp'")]
    public void ParseRefusesABadUrlNamingIt(string urls, string named, string why)
    {
        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() => NatsEndpoint.Parse(urls));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ParseRefusesCredentialsInAUrlWithoutRepeatingThem()
    {
        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() => NatsEndpoint.Parse("nats://alice:s3cret@127.0.0.1:4222"));

        Assert.Contains("--user/--password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("user+token")]
    [InlineData("token+nkey")]
    [InlineData("nkey+creds")]
    [InlineData("user+creds")]
    public void ValidateRefusesCredentialsOfTwoKinds(string combination)
    {
        NatsEndpoint endpoint = combination switch
        {
            "user+token" => new NatsEndpoint { User = "a", Password = "b", Token = "t" },
            "token+nkey" => new NatsEndpoint { Token = "t", NKeySeedFile = "/x.nk" },
            "nkey+creds" => new NatsEndpoint { NKeySeedFile = "/x.nk", CredsFile = "/x.creds" },
            _ => new NatsEndpoint { User = "a", Password = "b", CredsFile = "/x.creds" },
        };

        ArgumentException error = Assert.ThrowsAny<ArgumentException>(endpoint.Validate);

        Assert.Contains("several kinds", error.Message, StringComparison.Ordinal);
        Assert.Contains("give only one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateRefusesAPasswordWithoutAUserAndACertificateWithoutItsKey()
    {
        Assert.Contains("--user and --password", Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { Password = "p" }.Validate).Message, StringComparison.Ordinal);
        Assert.Contains("--user and --password", Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { User = "u" }.Validate).Message, StringComparison.Ordinal);
        Assert.Contains("--tls-key", Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { TlsCertFile = "/c.pem" }.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateRefusesNoUrlsAndTimingsOutOfRange()
    {
        Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { Urls = [] }.Validate);
        Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { ConnectTimeout = TimeSpan.Zero }.Validate);
        Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { ReconnectWaitMin = TimeSpan.FromSeconds(2), ReconnectWaitMax = TimeSpan.FromSeconds(1) }.Validate);
        Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { MaxReconnectRetry = -2 }.Validate);
        Assert.ThrowsAny<ArgumentException>(new NatsEndpoint { Name = " " }.Validate);
    }

    [Fact]
    public void TheDefaultsConnectToALocalServerAsTheGateway()
    {
        var endpoint = new NatsEndpoint();

        endpoint.Validate();
        Assert.Equal(["nats://127.0.0.1:4222"], endpoint.Urls);
        Assert.Equal("zerolane-gateway", endpoint.Name);
        Assert.Equal(-1, endpoint.MaxReconnectRetry);
        Assert.False(endpoint.TlsInsecure);
        Assert.Null(endpoint.User ?? endpoint.Token ?? endpoint.NKeySeedFile ?? endpoint.CredsFile);
    }

    [Fact]
    public void NatsOptionsNeverEchoNeverShuffleAndCarryEverySetting()
    {
        NatsEndpoint endpoint = NatsEndpoint.Parse("nats://127.0.0.1:4300,nats://127.0.0.1:4301") with
        {
            Name = "gw-a",
            User = "alice",
            Password = "pw",
            TlsCaFile = "/ca.pem",
            TlsCertFile = "/c.pem",
            TlsKeyFile = "/k.pem",
            ConnectTimeout = TimeSpan.FromSeconds(3),
            ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            MaxReconnectRetry = 7,
        };

        NatsOpts opts = endpoint.ToNatsOpts();

        Assert.False(opts.Echo);
        Assert.True(opts.NoRandomize);
        Assert.Equal("nats://127.0.0.1:4300,nats://127.0.0.1:4301", opts.Url);
        Assert.Equal("gw-a", opts.Name);
        Assert.Equal(("alice", "pw"), (opts.AuthOpts.Username, opts.AuthOpts.Password));
        Assert.Equal(("/ca.pem", "/c.pem", "/k.pem"), (opts.TlsOpts.CaFile, opts.TlsOpts.CertFile, opts.TlsOpts.KeyFile));
        Assert.False(opts.TlsOpts.InsecureSkipVerify);
        Assert.Equal(TimeSpan.FromSeconds(3), opts.ConnectTimeout);
        Assert.Equal((TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2)), (opts.ReconnectWaitMin, opts.ReconnectWaitMax));
        Assert.Equal(7, opts.MaxReconnectRetry);
    }

    [Fact]
    public void TheCliOptionsBuildTheEndpointTheyDescribe()
    {
        NatsCliOptions options = NatsCliOptions.Create();
        var command = new RootCommand();
        options.AddTo(command);

        ParseResult result = command.Parse(
            ["--nats", "nats://127.0.0.1:4300,nats://127.0.0.1:4301", "--name", "gw-b", "--token", "t0k", "--tls-ca", "/ca.pem"]);

        Assert.Empty(result.Errors);
        NatsEndpoint endpoint = options.ToEndpoint(result, TimeSpan.FromSeconds(9));
        Assert.Equal(["nats://127.0.0.1:4300", "nats://127.0.0.1:4301"], endpoint.Urls);
        Assert.Equal(("gw-b", "t0k", "/ca.pem"), (endpoint.Name, endpoint.Token, endpoint.TlsCaFile));
        Assert.Equal(TimeSpan.FromSeconds(9), endpoint.ConnectTimeout);
    }

    [Fact]
    public void TheCliRefusesABadNatsUrlAndAMissingOneAtParseTime()
    {
        NatsCliOptions options = NatsCliOptions.Create();
        var command = new RootCommand();
        options.AddTo(command);

        ParseResult bad = command.Parse(["--nats", "http://127.0.0.1:4222"]);
        ParseResult missing = command.Parse([]);

        Assert.Contains(bad.Errors, error => error.Message.Contains("http://127.0.0.1:4222", StringComparison.Ordinal) &&
            !error.Message.Contains("(Parameter", StringComparison.Ordinal));
        Assert.Contains(missing.Errors, error => error.Message.Contains("--nats", StringComparison.Ordinal));
    }

    [Fact]
    public void TheCliRefusesTwoKindsOfCredentials()
    {
        NatsCliOptions options = NatsCliOptions.Create();
        var command = new RootCommand();
        options.AddTo(command);

        ParseResult result = command.Parse(["--nats", "nats://127.0.0.1:4222", "--token", "t", "--creds", "/x.creds"]);

        Assert.Contains("several kinds", Assert.ThrowsAny<ArgumentException>(() => options.ToEndpoint(result)).Message, StringComparison.Ordinal);
    }
}
