using System.CommandLine;
using System.CommandLine.Parsing;
using ZeroLane.Nats;

namespace ZeroLane.Cli;

/// <summary>
/// The options of a command that connects to NATS (<c>--nats</c>, <c>--name</c>, credentials, TLS files), and the
/// <see cref="NatsEndpoint"/> they describe. Create one set per command, add it with <see cref="AddTo"/>, read it back with
/// <see cref="ToEndpoint"/>.
/// </summary>
internal sealed class NatsCliOptions
{
    private NatsCliOptions(bool natsRequired, string defaultName)
    {
        Nats = new Option<string>("--nats")
        {
            Description = "The NATS servers: URL[,URL...], each nats://HOST:PORT or tls://HOST:PORT, tried in this order " +
                "(the next one when one is down).",
            Required = natsRequired,
            HelpName = "url[,url...]",
        };
        if (!natsRequired)
        {
            Nats.DefaultValueFactory = _ => "nats://127.0.0.1:4222";
        }
        Nats.Validators.Add(ValidateUrls);
        Name = new Option<string>("--name")
        {
            Description = $"The client name NATS monitoring shows for this connection (default {defaultName}).",
            DefaultValueFactory = _ => defaultName,
            HelpName = "name",
        };
        User = new Option<string?>("--user") { Description = "NATS user name (with --password).", HelpName = "user" };
        Password = new Option<string?>("--password")
        {
            Description = "Password of --user. Other local users can see a command line: prefer --nkey or --creds on shared hosts.",
            HelpName = "password",
        };
        Token = new Option<string?>("--token")
        {
            Description = "NATS authentication token. Other local users can see a command line: prefer --nkey or --creds on shared hosts.",
            HelpName = "token",
        };
        NKey = new Option<string?>("--nkey") { Description = "A file holding the user NKey seed (SU...), as 'nk -gen user' writes it.", HelpName = "file" };
        Creds = new Option<string?>("--creds") { Description = "A NATS .creds file (user JWT and seed), as 'nsc' writes it.", HelpName = "file" };
        TlsCa = new Option<string?>("--tls-ca") { Description = "PEM file of the CA that signed the servers' certificates (default: the system's).", HelpName = "file" };
        TlsCert = new Option<string?>("--tls-cert") { Description = "PEM client certificate, for servers that verify clients (with --tls-key).", HelpName = "file" };
        TlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert.", HelpName = "file" };
    }

    /// <summary><c>--nats URL[,URL...]</c>.</summary>
    internal Option<string> Nats { get; }

    /// <summary><c>--name NAME</c>: the client name in NATS monitoring.</summary>
    internal Option<string> Name { get; }

    /// <summary><c>--user USER</c>.</summary>
    internal Option<string?> User { get; }

    /// <summary><c>--password PASSWORD</c>.</summary>
    internal Option<string?> Password { get; }

    /// <summary><c>--token TOKEN</c>.</summary>
    internal Option<string?> Token { get; }

    /// <summary><c>--nkey FILE</c>: an NKey seed file.</summary>
    internal Option<string?> NKey { get; }

    /// <summary><c>--creds FILE</c>.</summary>
    internal Option<string?> Creds { get; }

    /// <summary><c>--tls-ca FILE</c>.</summary>
    internal Option<string?> TlsCa { get; }

    /// <summary><c>--tls-cert FILE</c>.</summary>
    internal Option<string?> TlsCert { get; }

    /// <summary><c>--tls-key FILE</c>.</summary>
    internal Option<string?> TlsKey { get; }

    /// <summary>Every option of the set, in the order help lists them.</summary>
    internal IEnumerable<Option> All => [Nats, Name, User, Password, Token, NKey, Creds, TlsCa, TlsCert, TlsKey];

    /// <summary>
    /// A new set of options; <paramref name="natsRequired"/> makes <c>--nats</c> required (else it defaults to
    /// <c>nats://127.0.0.1:4222</c>); <paramref name="defaultName"/> is <c>--name</c>'s default.
    /// </summary>
    internal static NatsCliOptions Create(bool natsRequired = true, string defaultName = "zerolane-gateway") => new(natsRequired, defaultName);

    /// <summary>Adds every option of the set to <paramref name="command"/>.</summary>
    internal void AddTo(Command command)
    {
        foreach (Option option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The endpoint the options describe, with <paramref name="connectTimeout"/> (e.g. from <c>--connect-timeout</c>) when
    /// given, checked as a whole (one kind of credentials, certificate with key).
    /// </summary>
    /// <exception cref="ArgumentException">The options do not go together; the message names them.</exception>
    internal NatsEndpoint ToEndpoint(ParseResult parseResult, TimeSpan? connectTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        NatsEndpoint endpoint = NatsEndpoint.Parse(parseResult.GetValue(Nats) ?? "nats://127.0.0.1:4222") with
        {
            Name = parseResult.GetValue(Name) ?? "zerolane-gateway",
            User = parseResult.GetValue(User),
            Password = parseResult.GetValue(Password),
            Token = parseResult.GetValue(Token),
            NKeySeedFile = parseResult.GetValue(NKey),
            CredsFile = parseResult.GetValue(Creds),
            TlsCaFile = parseResult.GetValue(TlsCa),
            TlsCertFile = parseResult.GetValue(TlsCert),
            TlsKeyFile = parseResult.GetValue(TlsKey),
        };
        if (connectTimeout is { } timeout)
        {
            endpoint = endpoint with { ConnectTimeout = timeout };
        }
        endpoint.Validate();
        return endpoint;
    }

    private static void ValidateUrls(OptionResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return;
        }
        try
        {
            _ = NatsEndpoint.Parse(result.Tokens[0].Value);
        }
        catch (ArgumentException e)
        {
            result.AddError(e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal));
        }
    }
}
