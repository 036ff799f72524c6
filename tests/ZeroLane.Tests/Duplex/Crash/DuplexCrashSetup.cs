using Xunit;
using ZeroLane.Buffers;
using ZeroLane.Duplex;

namespace ZeroLane.Tests.Duplex.Crash;

/// <summary>
/// One configuration the duplex crash tests run in: how the ends in this process are built and what the ends in child
/// processes are told. Every crash test takes its options from here and nowhere else, so each mode is covered by one
/// entry in <see cref="All"/>.
/// </summary>
public sealed record DuplexCrashSetup
{
    /// <summary>The reference-compatible mode (PROTOCOL.md 14.1 to 14.4): every end offers only it.</summary>
    public static readonly DuplexCrashSetup Reference = new()
    {
        Name = "reference",
        Server = ring => new DuplexServerOptions { RequestRing = ring, Mode = DuplexMode.Reference },
        Client = ring => new DuplexClientOptions { ResponseRing = ring, Mode = DuplexMode.Reference },
        PeerArguments = ["--mode", "reference"],
    };

    /// <summary>The extended mode between ZeroLane ends (PROTOCOL.md 14.5): the default options.</summary>
    public static readonly DuplexCrashSetup Extended = new()
    {
        Name = "extended",
        Server = ring => new DuplexServerOptions { RequestRing = ring },
        Client = ring => new DuplexClientOptions { ResponseRing = ring },
        PeerArguments = ["--mode", "extended"],
    };

    /// <summary>Every setup the crash tests run in.</summary>
    private static readonly DuplexCrashSetup[] All = [Reference, Extended];

    /// <summary>The name the theory rows show.</summary>
    public required string Name { get; init; }

    /// <summary>The options of a server in this process, given the ring options of the test (size, lock directory, peer checks).</summary>
    public required Func<ReaderOptions, DuplexServerOptions> Server { get; init; }

    /// <summary>The options of a client in this process, given the ring options of the test.</summary>
    public required Func<ReaderOptions, DuplexClientOptions> Client { get; init; }

    /// <summary>Arguments added to the command line of every duplex peer process (duplex-crash-server, duplex-client).</summary>
    public IReadOnlyList<string> PeerArguments { get; init; } = [];

    /// <summary>Theory data: the name of every setup.</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (DuplexCrashSetup setup in All)
            {
                names.Add(setup.Name);
            }
            return names;
        }
    }

    /// <summary>Theory data: the name of every setup, each with a server that returns its answers (false) and one that writes them in place (true).</summary>
    public static TheoryData<string, bool> NamesAndHandlerKinds
    {
        get
        {
            var rows = new TheoryData<string, bool>();
            foreach (DuplexCrashSetup setup in All)
            {
                rows.Add(setup.Name, false);
                rows.Add(setup.Name, true);
            }
            return rows;
        }
    }

    /// <summary>The setup named <paramref name="name"/>.</summary>
    public static DuplexCrashSetup Get(string name) =>
        All.SingleOrDefault(setup => setup.Name == name) ?? throw new ArgumentException($"No duplex crash setup is named '{name}'.", nameof(name));

    public override string ToString() => Name;
}
