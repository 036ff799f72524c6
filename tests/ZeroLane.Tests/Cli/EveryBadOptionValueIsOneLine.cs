using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;
using ZeroLane.Cli;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// The tests that run the tool inside the test process (<see cref="ToolInThisProcess"/>): they swap the console's
/// writers and the working directory, which are the process's, so they run alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ToolInThisProcessCollection
{
    /// <summary>The collection's name, for <c>[Collection(ToolInThisProcessCollection.Name)]</c>.</summary>
    public const string Name = "zerolane run in the test process";
}

/// <summary>
/// Every value a user can type for every option and argument of every command ends in one line
/// <c>zerolane: ...</c> on standard error and exit code 1, or, where the value happens to be valid, in a command
/// that completes (exit code 0) without a stack trace. Never an unhandled exception, never a hang.
/// </summary>
/// <remarks>
/// <para>
/// Design: the cases come from walking the real command tree (<see cref="ToolCommands.CreateRoot"/>, what
/// Program.cs runs), so a new option or argument is swept without a change here; its bad values follow from its
/// type (<see cref="BadValuesFor"/>). A new command needs a line in <see cref="s_baseArguments"/>: the arguments
/// that make it fail fast once the value under test is accepted (a buffer no one writes to and a short
/// <c>--timeout</c>, a port already taken, one tiny bench part), so that no case waits for a peer.
/// <see cref="EveryCommandHasBaseArguments"/> fails until it has one.
/// </para>
/// <para>
/// The tool runs in this process through the same entry as Program.cs (<see cref="CommandRunner.RunAsync"/>): about
/// a millisecond a case instead of the ~150 ms of starting dotnet. A child process prints an unhandled exception
/// and its stack trace; here that exception reaches the test instead and fails it.
/// </para>
/// <para>
/// The hidden commands (demo-reader, the bench peers and the like) are the tool's own children: it starts them with
/// values it made, and with valid values they wait for their parent. They get only the values that fail to parse
/// (not a number, empty, out of the type's range), after their required options given plausible values
/// (<see cref="HiddenBaseArguments"/>), so their actions never run.
/// </para>
/// </remarks>
[Collection(ToolInThisProcessCollection.Name)]
public sealed class EveryBadOptionValueIsOneLine : IDisposable
{
    // Placeholders in the cases, replaced when a case runs (the cases are data xunit shows, so they are fixed strings).
    private const string BufferName = "<buffer>";
    private const string DirectoryValue = "<directory>";
    private const string MissingFile = "<missing file>";
    private const string LongName = "<300 characters>";
    private const string BusyPort = "<port in use>";
    private const string RequestFile = "<request file>";

    /// <summary>
    /// Per command, the arguments every case of it starts from: (the option or argument they give, its tokens). The
    /// option under test replaces its own entry, or is added after them.
    /// </summary>
    private static readonly Dictionary<string, (string Symbol, string[] Tokens)[]> s_baseArguments = new()
    {
        ["demo"] = [("--seconds", ["--seconds", "0.3"]), ("--frame-size", ["--frame-size", "64K"])],
        ["ls"] = [],
        // --watch: without it --count is not used.
        ["stat"] = [("name", [BufferName]), ("--watch", ["--watch"])],
        ["array info"] = [("file", [MissingFile])],
        // A name, so that clean never looks at the host's other buffers.
        ["clean"] = [("names", [BufferName]), ("--yes", ["--yes"])],
        ["read"] = [("name", [BufferName]), ("--timeout", ["--timeout", "0.05"])],
        // No reader: the writer fails to connect, after the options are checked.
        ["write"] = [("name", [BufferName]), ("--in", ["--in", "/dev/null"])],
        // Port 1 refuses the connection.
        ["bridge send"] = [("name", [BufferName]), ("--to", ["--to", "127.0.0.1:1"]), ("--connect-timeout", ["--connect-timeout", "0.05"])],
        // A port already taken: the receiver fails to listen instead of waiting for a sender.
        ["bridge receive"] = [("name", [BufferName]), ("--listen", ["--listen", BusyPort]), ("--connect-timeout", ["--connect-timeout", "0.05"])],
        ["topics"] = [("--watch", ["--watch"])],
        // Port 1 refuses the connection: the gateway fails to reach NATS, after its options are checked.
        ["gateway"] = [("--nats", ["--nats", "nats://127.0.0.1:1"]), ("--topic", ["--topic", "a"]), ("--connect-timeout", ["--connect-timeout", "0.05"])],
        // One synthetic sample, no subscriber needed; --in and --size read input instead.
        ["pub"] = [("topic", [BufferName]), ("--rate", ["--rate", "0"]), ("--count", ["--count", "1"])],
        ["sub"] = [("topic", [BufferName]), ("--timeout", ["--timeout", "0.05"])],
        // No request within --timeout: the server gives up after its options are checked.
        ["serve"] = [("name", [BufferName]), ("--echo", ["--echo"]), ("--timeout", ["--timeout", "0.05"])],
        // No server: the client fails at once, after its options are checked, and creates nothing.
        ["call"] = [("name", [BufferName]), ("--in", ["--in", RequestFile])],
        ["bench"] = [("--only", ["--only", "memcpy"]), ("--sizes", ["--sizes", "64"]), ("--seconds", ["--seconds", "0.05"]), ("--warmup", ["--warmup", "0"])],
    };

    /// <summary>Base entries left out when a given option is under test ("pub --in" cannot be combined with --rate).</summary>
    private static readonly Dictionary<(string Command, string Symbol), string[]> s_leftOutFor = new()
    {
        [("pub", "--in")] = ["--rate"],
        [("pub", "--size")] = ["--rate"],
        // --echo and --exec exclude each other.
        [("serve", "--exec")] = ["--echo"],
    };

    /// <summary>
    /// The (command, option, value) cases where the value is valid and the command completes with exit code 0. Every
    /// other case must end in exit code 1.
    /// </summary>
    private static readonly HashSet<(string Command, string Symbol, string Value)> s_accepted =
    [
        // A valid name for a buffer that does not exist: clean says so and has nothing to do (like rm -f).
        ("clean", "names", "nonsense"),
        // A flag takes no value: 'nonsense' is a second buffer name, as above.
        ("clean", "--yes", "nonsense"),
        // An existing directory: where clean looks for lock files.
        ("clean", "--lock-dir", DirectoryValue),
        // A valid topic name: one synthetic sample published to no one.
        ("pub", "topic", "nonsense"),
        // Publish as fast as possible, wait for no subscriber, keep no history, do not wait for acknowledgements.
        ("pub", "--rate", "0"),
        ("pub", "--subscribers", "0"),
        ("pub", "--history", "0"),
        ("pub", "--ack-timeout", "0"),
        // No warm-up; a blank --wait means every wait strategy (BenchSettings), the memcpy part does not use one.
        ("bench", "--warmup", "0"),
        ("bench", "--wait", ""),
    ];

    /// <summary>
    /// Cases not run, with the reason: valid values whose command runs for a long time. The option's other values
    /// are still swept.
    /// </summary>
    private static readonly Dictionary<(string Command, string Symbol, string Value), string> s_notRun = new()
    {
        [("bench", "--only", "")] = "a blank --only means the default parts (BenchSettings): the whole benchmark, minutes",
    };

    /// <summary>What no message may contain: .NET's names and wording, which mean nothing at a shell.</summary>
    private static readonly string[] s_foreignWords = ["System.", "Nullable`1", "(Parameter '", "The value cannot be an empty string", "Exception"];

    private static int s_caseNumber;

    private readonly string _directory = Directory.CreateTempSubdirectory("zltest-sweep-").FullName;
    private readonly string _workingDirectory;
    private readonly string _bufferName = $"zlsweep-{Environment.ProcessId}-{Interlocked.Increment(ref s_caseNumber)}";
    private readonly TcpListener _portInUse = new(IPAddress.Loopback, 0);

    private readonly ITestOutputHelper _output;

    public EveryBadOptionValueIsOneLine(ITestOutputHelper output)
    {
        _output = output;
        _workingDirectory = Directory.CreateDirectory(Path.Combine(_directory, "work")).FullName;
        _portInUse.Start();
        File.WriteAllText(Path.Combine(_directory, "request.txt"), "a request");
    }

    public static TheoryData<string, string, string> Cases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach ((string command, Command definition) in VisibleCommands())
        {
            foreach (Symbol symbol in definition.Arguments.Cast<Symbol>().Concat(definition.Options))
            {
                foreach (string value in BadValuesFor(symbol).Where(value => !s_notRun.ContainsKey((command, symbol.Name, value))))
                {
                    cases.Add(command, symbol.Name, value);
                }
            }
        }
        foreach (Command hidden in HiddenCommands())
        {
            foreach (Symbol symbol in hidden.Arguments.Cast<Symbol>().Concat(hidden.Options))
            {
                foreach (string value in UnparsableValuesFor(symbol))
                {
                    cases.Add(hidden.Name, symbol.Name, value);
                }
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryBadValueOfEveryOptionEndsInOneLineAndExitCodeOne(string command, string symbol, string value)
    {
        string[] arguments = CommandLine(command, symbol, value);

        InProcessResult result = await ToolInThisProcess.RunAsync(arguments, _workingDirectory);
        _output.WriteLine($"exit code {result.ExitCode}: {result.Error.TrimEnd()}");

        string described = $"zerolane {string.Join(' ', arguments.Select(a => a.Length > 60 ? a[..20] + "..." : $"'{a}'"))}\n{result}";
        Assert.True(result.Exception is null, $"unhandled exception: {described}");
        Assert.True(result.Finished, $"did not finish within {ToolInThisProcess.Limit.TotalSeconds} s: {described}");
        Assert.DoesNotContain("Unhandled exception", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        if (s_accepted.Contains((command, symbol, value)))
        {
            Assert.True(result.ExitCode == 0, $"expected to complete: {described}");
            return;
        }
        Assert.True(result.ExitCode == 1, $"expected exit code 1: {described}");
        string[] lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on standard error: {described}");
        Assert.StartsWith("zerolane: ", lines[0]);
        Assert.True(lines[0].Length > "zerolane: ".Length + 10, $"expected a message: {described}");
        Assert.DoesNotContain(s_foreignWords, word => lines[0].Contains(word, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryCommandHasBaseArguments()
    {
        string[] commands = VisibleCommands().Select(c => c.Path).ToArray();

        Assert.Equal(commands.Order(), s_baseArguments.Keys.Order());
    }

    [Fact]
    public void TheSweepCoversEveryOptionAndArgument()
    {
        int symbols = VisibleCommands().Sum(c => c.Command.Arguments.Count + c.Command.Options.Count)
            + HiddenCommands().Sum(c => c.Arguments.Concat<Symbol>(c.Options).Count(symbol => UnparsableValuesFor(symbol).Length > 0));
        var swept = Cases().Select(row => ((string)row[0], (string)row[1])).Distinct().Count();

        Assert.Equal(symbols, swept);
    }

    /// <summary>The commands a user runs (those with an action), as "bridge send", and their definitions.</summary>
    private static IEnumerable<(string Path, Command Command)> VisibleCommands()
    {
        var pending = new Stack<(string, Command)>(ToolCommands.CreateRoot().Subcommands.Where(c => !c.Hidden).Select(c => (c.Name, c)).Reverse());
        while (pending.TryPop(out (string Path, Command Command) next))
        {
            if (next.Command.Action is not null)
            {
                yield return next;
            }
            foreach (Command sub in next.Command.Subcommands.Where(c => !c.Hidden).Reverse())
            {
                pending.Push((next.Path + " " + sub.Name, sub));
            }
        }
    }

    /// <summary>The commands the tool starts as its own children (hidden from help).</summary>
    private static IEnumerable<Command> HiddenCommands() => ToolCommands.CreateRoot().Subcommands.Where(c => c.Hidden);

    /// <summary>Values that fail to parse for the symbol's type (none for a string, which takes anything).</summary>
    private static string[] UnparsableValuesFor(Symbol symbol)
    {
        Type type = ValueTypeOf(symbol);
        return type == typeof(bool) ? ["nonsense"]
            : type == typeof(int) || type == typeof(long) ? ["abc", "", "99999999999999999999"]
            : type == typeof(double) ? ["abc", ""]
            : [];
    }

    /// <summary>A hidden command's required options, each with a plausible value, but for <paramref name="tested"/>.</summary>
    private static IEnumerable<string> HiddenBaseArguments(Command command, string tested) =>
        command.Options.Where(option => option.Required && option.Name != tested).SelectMany(option =>
            new[] { option.Name, ValueTypeOf(option) == typeof(string) ? BufferName : ValueTypeOf(option) == typeof(double) ? "0.1" : "1024" });

    private static Type ValueTypeOf(Symbol symbol)
    {
        Type type = symbol switch
        {
            Option option => option.ValueType,
            Argument argument => argument.ValueType,
            _ => throw new InvalidOperationException(symbol.GetType().Name),
        };
        return Nullable.GetUnderlyingType(type) ?? type;
    }

    /// <summary>Bad values from the option's type: numbers out of range and not numbers, nonsense choices, names and paths that cannot be.</summary>
    private static string[] BadValuesFor(Symbol symbol)
    {
        Type type = ValueTypeOf(symbol);
        if (type == typeof(bool))
        {
            return ["nonsense"];
        }
        if (type == typeof(int) || type == typeof(long))
        {
            return ["-1", "0", "99999999999999999999", "abc", ""];
        }
        if (type == typeof(double))
        {
            // Seconds and rates: below zero, not a number, NaN, and 1e400 (which parses as infinity).
            return ["-5", "0", "abc", "", "NaN", "1e400"];
        }
        if (type == typeof(string) || type == typeof(string[]))
        {
            string[] paths = ["", "nonsense", "../x", "a/b", LongName, DirectoryValue, MissingFile];
            // TEXT or @FILE (write --metadata): the file forms too.
            return symbol is Option { HelpName: { } help } && help.Contains("@file", StringComparison.Ordinal)
                ? [.. paths, "@", "@" + MissingFile, "@" + DirectoryValue]
                : paths;
        }
        throw new InvalidOperationException($"No bad values for {symbol.Name} of type {type}: add them here.");
    }

    private string[] CommandLine(string command, string symbol, string value)
    {
        if (HiddenCommands().FirstOrDefault(c => c.Name == command) is { } hidden)
        {
            return [command, .. HiddenBaseArguments(hidden, symbol).Select(Resolve), .. TokensOf(symbol, value)];
        }
        string[] leftOut = s_leftOutFor.GetValueOrDefault((command, symbol), []);
        var arguments = new List<string>(command.Split(' '));
        bool placed = false;
        foreach ((string baseSymbol, string[] tokens) in s_baseArguments[command])
        {
            if (baseSymbol == symbol)
            {
                arguments.AddRange(TokensOf(symbol, value));
                placed = true;
            }
            else if (!leftOut.Contains(baseSymbol))
            {
                arguments.AddRange(tokens);
            }
        }
        if (!placed)
        {
            arguments.AddRange(TokensOf(symbol, value));
        }
        return arguments.Select(Resolve).ToArray();
    }

    private static string[] TokensOf(string symbol, string value) => symbol.StartsWith('-') ? [symbol, value] : [value];

    private string Resolve(string token) => token switch
    {
        ['@', '<', ..] => "@" + Resolve(token[1..]),
        BufferName => _bufferName,
        DirectoryValue => _directory,
        MissingFile => Path.Combine(_directory, "missing.npy"),
        LongName => new string('n', 300),
        RequestFile => Path.Combine(_directory, "request.txt"),
        BusyPort => "127.0.0.1:" + ((IPEndPoint)_portInUse.LocalEndpoint).Port,
        _ => token,
    };

    public void Dispose()
    {
        _portInUse.Stop();
        _portInUse.Dispose();
        // Whatever a case created under its buffer name: a ring's objects, a topic's, their lock files.
        string[] leftovers = Directory.GetFiles("/dev/shm").Concat(Directory.Exists("/tmp/zerobuffer") ? Directory.GetFiles("/tmp/zerobuffer") : [])
            .Where(path => Path.GetFileName(path).Contains(_bufferName, StringComparison.Ordinal)).ToArray();
        foreach (string path in leftovers)
        {
            File.Delete(path);
        }
        Directory.Delete(_directory, recursive: true);
        Assert.True(leftovers.Length == 0, "left behind: " + string.Join(", ", leftovers));
    }
}
