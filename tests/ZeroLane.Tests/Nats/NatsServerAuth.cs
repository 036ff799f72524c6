using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NATS.NKeys;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// Server configurations and client files for the connection tests: credentials, a throwaway CA and server certificate made
/// with openssl, NKey pairs, and the server's monitoring port. Everything is written into a <see cref="PrivateDirectory"/>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class NatsServerAuth
{
    internal const string OpenSslPath = "/usr/bin/openssl";

    /// <summary>A loopback port nothing listens on at the moment of the call.</summary>
    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Configuration for one user with a password.</summary>
    internal static string UserPasswordConfig(string user, string password) =>
        $"authorization {{\n  user: \"{user}\"\n  password: \"{password}\"\n}}\n";

    /// <summary>Configuration for a token.</summary>
    internal static string TokenConfig(string token) => $"authorization {{\n  token: \"{token}\"\n}}\n";

    /// <summary>Configuration admitting one NKey user by its public key.</summary>
    internal static string NKeyConfig(string publicKey) => $"authorization {{\n  users = [\n    {{ nkey: {publicKey} }}\n  ]\n}}\n";

    /// <summary>Configuration requiring TLS with the given server certificate and key.</summary>
    internal static string TlsConfig(string certFile, string keyFile) =>
        $"tls {{\n  cert_file: \"{certFile}\"\n  key_file: \"{keyFile}\"\n  timeout: 10\n}}\n";

    /// <summary>Configuration requiring TLS and a client certificate signed by <paramref name="caFile"/>.</summary>
    internal static string MutualTlsConfig(string certFile, string keyFile, string caFile) =>
        $"tls {{\n  cert_file: \"{certFile}\"\n  key_file: \"{keyFile}\"\n  ca_file: \"{caFile}\"\n  verify: true\n  timeout: 10\n}}\n";

    /// <summary>Configuration of the HTTP monitoring endpoint on a loopback port.</summary>
    internal static string MonitoringConfig(int httpPort) => $"http: 127.0.0.1:{httpPort}\n";

    /// <summary>A new user NKey pair: (seed "SU...", public key "U...").</summary>
    internal static (string Seed, string PublicKey) CreateUserNKey()
    {
        using KeyPair pair = KeyPair.CreatePair(PrefixByte.User);
        return (pair.GetSeed(), pair.GetPublicKey());
    }

    /// <summary>
    /// An operator, an account it signed and a user that account signed, as NATS JWTs, made in the test (there is no nsc
    /// here): what a server in operator mode needs (<see cref="OperatorConfig"/>) and what a <c>.creds</c> file holds
    /// (<see cref="CredsFileText"/>).
    /// </summary>
    internal sealed record OperatorAccountUser(string OperatorJwt, string AccountPublicKey, string AccountJwt, string UserJwt, string UserSeed);

    /// <summary>Makes a new operator, an account signed by it and a user signed by the account, each with fresh NKeys.</summary>
    internal static OperatorAccountUser CreateOperatorAccountAndUser()
    {
        using KeyPair op = KeyPair.CreatePair(PrefixByte.Operator);
        using KeyPair account = KeyPair.CreatePair(PrefixByte.Account);
        string operatorJwt = Jwt(op, op.GetPublicKey(), "zltest-operator", new JsonObject { ["type"] = "operator", ["version"] = 2 });
        string accountJwt = Jwt(op, account.GetPublicKey(), "zltest-account", new JsonObject
        {
            // Every limit spelled out: a limit left out reads as 0, which would admit no connection at all.
            ["limits"] = new JsonObject
            {
                ["subs"] = -1, ["data"] = -1, ["payload"] = -1, ["imports"] = -1, ["exports"] = -1, ["wildcards"] = true, ["conn"] = -1,
                ["leaf"] = -1,
            },
            ["default_permissions"] = new JsonObject { ["pub"] = new JsonObject(), ["sub"] = new JsonObject() },
            ["type"] = "account",
            ["version"] = 2,
        });
        (string userJwt, string userSeed) = CreateUser(account);
        return new OperatorAccountUser(operatorJwt, account.GetPublicKey(), accountJwt, userJwt, userSeed);
    }

    /// <summary>A user JWT signed by <paramref name="account"/> and the user's seed.</summary>
    internal static (string Jwt, string Seed) CreateUser(KeyPair account)
    {
        using KeyPair user = KeyPair.CreatePair(PrefixByte.User);
        string jwt = Jwt(account, user.GetPublicKey(), "zltest-user", new JsonObject
        {
            ["pub"] = new JsonObject(),
            ["sub"] = new JsonObject(),
            ["subs"] = -1,
            ["data"] = -1,
            ["payload"] = -1,
            ["type"] = "user",
            ["version"] = 2,
        });
        return (jwt, user.GetSeed());
    }

    /// <summary>Configuration of operator mode: the operator's JWT (a file) and the account's JWT preloaded in a memory resolver.</summary>
    internal static string OperatorConfig(string operatorJwtFile, string accountPublicKey, string accountJwt) =>
        $"operator: \"{operatorJwtFile}\"\nresolver: MEMORY\nresolver_preload: {{\n  {accountPublicKey}: \"{accountJwt}\"\n}}\n";

    /// <summary>The text of a <c>.creds</c> file, laid out as nsc writes one: the user JWT block, then the user seed block.</summary>
    internal static string CredsFileText(string userJwt, string userSeed) =>
        $"-----BEGIN NATS USER JWT-----\n{userJwt}\n------END NATS USER JWT------\n\n" +
        $"-----BEGIN USER NKEY SEED-----\n{userSeed}\n------END USER NKEY SEED------\n";

    /// <summary>
    /// A NATS JWT: base64url of the header, a dot, base64url of the claims, a dot, base64url of the issuer's ed25519 signature
    /// over the two. Its ID (jti) is the base32 SHA-256 of the claims without it, so every JWT made here is unique.
    /// </summary>
    private static string Jwt(KeyPair issuer, string subject, string name, JsonObject nats)
    {
        var claims = new JsonObject
        {
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["iss"] = issuer.GetPublicKey(),
            ["name"] = name,
            ["sub"] = subject,
            ["nats"] = nats,
        };
        claims["jti"] = Base32(SHA256.HashData(Encoding.UTF8.GetBytes(claims.ToJsonString())));
        string header = Base64Url.EncodeToString("{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}"u8);
        string body = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        byte[] signature = new byte[64];
        issuer.Sign(Encoding.ASCII.GetBytes($"{header}.{body}"), signature);
        return $"{header}.{body}.{Base64Url.EncodeToString(signature)}";
    }

    /// <summary>RFC 4648 base32 without padding.</summary>
    private static string Base32(ReadOnlySpan<byte> data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (byte b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0)
        {
            text.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }
        return text.ToString();
    }

    /// <summary>
    /// Makes a CA and a server certificate for 127.0.0.1 (and localhost) signed by it, with openssl, in
    /// <paramref name="directory"/>; every file owner-only.
    /// </summary>
    internal static (string CaFile, string ServerCertFile, string ServerKeyFile) CreateCaAndServerCertificate(PrivateDirectory directory)
    {
        if (!File.Exists(OpenSslPath))
        {
            throw new InvalidOperationException($"{OpenSslPath} does not exist: apt-get install openssl (the TLS tests make their certificates with it).");
        }
        string caKey = directory.PathOf("ca.key");
        string caCert = directory.PathOf("ca.pem");
        string serverKey = directory.PathOf("server.key");
        string serverCsr = directory.PathOf("server.csr");
        string serverCert = directory.PathOf("server.pem");
        string extensions = directory.WriteFile("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        RunOpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", caCert, "-days", "2", "-subj", "/CN=zltest-ca");
        RunOpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", serverKey, "-out", serverCsr, "-subj", "/CN=127.0.0.1");
        RunOpenSsl("x509", "-req", "-in", serverCsr, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial", "-out", serverCert, "-days", "2",
            "-extfile", extensions);
        directory.RestrictEveryFile();
        return (caCert, serverCert, serverKey);
    }

    /// <summary>
    /// Makes a client certificate signed by the CA <see cref="CreateCaAndServerCertificate"/> made in the same
    /// <paramref name="directory"/>; every file owner-only.
    /// </summary>
    internal static (string CertFile, string KeyFile) CreateClientCertificate(PrivateDirectory directory)
    {
        string clientKey = directory.PathOf("client.key");
        string clientCsr = directory.PathOf("client.csr");
        string clientCert = directory.PathOf("client.pem");
        string extensions = directory.WriteFile("client.ext", "extendedKeyUsage=clientAuth\n");
        RunOpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", clientKey, "-out", clientCsr, "-subj", "/CN=zltest-gateway");
        RunOpenSsl("x509", "-req", "-in", clientCsr, "-CA", directory.PathOf("ca.pem"), "-CAkey", directory.PathOf("ca.key"), "-CAcreateserial",
            "-out", clientCert, "-days", "2", "-extfile", extensions);
        directory.RestrictEveryFile();
        return (clientCert, clientKey);
    }

    /// <summary>The <c>name</c> of every client connection the server's monitoring lists (<c>/connz</c>).</summary>
    internal static async Task<List<string>> ConnectionNamesAsync(int httpPort, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        string json = await http.GetStringAsync($"http://127.0.0.1:{httpPort}/connz", cancellationToken);
        using JsonDocument document = JsonDocument.Parse(json);
        List<string> names = [];
        if (document.RootElement.TryGetProperty("connections", out JsonElement connections) && connections.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement connection in connections.EnumerateArray())
            {
                if (connection.TryGetProperty("name", out JsonElement name) && name.GetString() is { } text)
                {
                    names.Add(text);
                }
            }
        }
        return names;
    }

    private static void RunOpenSsl(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(OpenSslPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("openssl did not start.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill();
            process.WaitForExit();
            throw new TimeoutException($"openssl {string.Join(' ', arguments)} did not finish within 120 s.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Result}{output.Result}");
        }
    }

    /// <summary>An owner-only (0700) temporary directory whose files are owner-only (0600), deleted with everything in it on dispose.</summary>
    internal sealed class PrivateDirectory : IDisposable
    {
        internal PrivateDirectory()
        {
            Path = Directory.CreateTempSubdirectory("zltest-natsconn-").FullName;
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        internal string Path { get; }

        internal string PathOf(string name) => System.IO.Path.Combine(Path, name);

        /// <summary>Writes an owner-only file and returns its path.</summary>
        internal string WriteFile(string name, string content)
        {
            string path = PathOf(name);
            using (var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(content);
            }
            return path;
        }

        /// <summary>Makes every file in the directory owner-only (openssl creates some with the umask's permissions).</summary>
        internal void RestrictEveryFile()
        {
            foreach (string file in Directory.EnumerateFiles(Path))
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
