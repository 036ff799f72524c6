using System.Diagnostics;
using Xunit.Abstractions;
using ZeroLane.Fuzz;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Fuzz;

/// <summary>
/// Every fuzz target under AFL++ for a few seconds, coverage-guided: ZeroLane.dll instrumented by SharpFuzz, the target
/// run as <c>afl-fuzz -V SECONDS -- dotnet ZeroLane.Fuzz.dll TARGET</c> from the checked-in corpus. AFL must have run
/// inputs, seen branches of the instrumented code, and saved no crash and no hang; a crash is reported with its file and what the input throws in process.
/// </summary>
/// <remarks>
/// Design: the instrumented ZeroLane.dll lives in a directory of its own with the fuzz program, never in this output
/// directory, whose ZeroLane.dll every other test loads. How many inputs AFL gets through depends on the machine, so this
/// test asserts what it found, not how far it got; <see cref="FuzzTargetsRefuseCorruptInputOnlyAsDocumented"/> runs a
/// fixed budget whatever the machine. A long campaign is docs/FUZZING.md.
/// </remarks>
public sealed class FuzzTargetsSurviveAShortAflCampaign(FuzzTargetsSurviveAShortAflCampaign.InstrumentedProgram instrumented, ITestOutputHelper output)
    : IClassFixture<FuzzTargetsSurviveAShortAflCampaign.InstrumentedProgram>, IDisposable
{
    /// <summary>Seconds of fuzzing per target (afl-fuzz -V).</summary>
    private const int SecondsPerTarget = 8;

    private readonly TempDirectory _directory = new();

    public static TheoryData<string> Targets => new(FuzzTarget.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public void AflFindsNoCrashAndNoHang(string targetName)
    {
        Prerequisites.Afl.Require();
        FuzzTarget target = FuzzTarget.Find(targetName);
        string program = instrumented.Path;
        string findings = Path.Combine(_directory.Path, "findings");

        (int exitCode, string log) = RunAfl();
        if (exitCode != 0 && log.Contains("No instrumentation detected", StringComparison.Ordinal))
        {
            // Seen once in CI under load (message-stream, its first seed's dry run): AFL read an empty map from one run of
            // the fork server. A target that is really not instrumented fails the same way again, and edges_found is still
            // asserted below, so one more try cannot let an unguided run pass.
            output.WriteLine("afl-fuzz saw no instrumentation in its dry run; trying once more:\n" + Tail(log));
            if (Directory.Exists(findings))
            {
                Directory.Delete(findings, recursive: true);
            }
            (exitCode, log) = RunAfl();
        }
        string stats = Path.Combine(findings, "default", "fuzzer_stats");

        (int ExitCode, string Log) RunAfl() => Run("afl-fuzz", ["-i", Corpus.DirectoryOf(target), "-o", findings, "-V", SecondsPerTarget.ToString(),
            "-t", "10000", "-m", "none", "--", "dotnet", program, target.Name], TimeSpan.FromSeconds(SecondsPerTarget + 120));
        Assert.True(exitCode == 0 && File.Exists(stats), $"afl-fuzz failed (exit code {exitCode}):\n{Tail(log)}");
        string statsText = File.ReadAllText(stats);
        output.WriteLine(string.Join('\n', statsText.Split('\n').Where(line =>
            line.StartsWith("execs_done", StringComparison.Ordinal) || line.StartsWith("execs_per_sec", StringComparison.Ordinal) ||
            line.StartsWith("corpus_count", StringComparison.Ordinal) || line.StartsWith("edges_found", StringComparison.Ordinal))));
        Assert.Matches(@"(?m)^execs_done\s*:\s*[1-9]", statsText);
        // Branches seen: the instrumented ZeroLane.dll reports to AFL, so the search is coverage-guided, not blind.
        Assert.Matches(@"(?m)^edges_found\s*:\s*[1-9]", statsText);

        var problems = new List<string>();
        foreach (string kind in new[] { "crashes", "hangs" })
        {
            string directory = Path.Combine(findings, "default", kind);
            foreach (string input in Directory.Exists(directory) ? Directory.GetFiles(directory, "id*") : [])
            {
                problems.Add($"{kind}: {input} (base64 {Convert.ToBase64String(File.ReadAllBytes(input))})\n  in process: {Replay(target, input)}");
            }
        }
        Assert.True(problems.Count == 0, $"AFL found {problems.Count} input(s) that {target.Name} fails on:\n{string.Join('\n', problems)}");
    }

    private static string Replay(FuzzTarget target, string input)
    {
        try
        {
            target.Run(File.ReadAllBytes(input));
            return "no exception (a crash of the process, or a hang, not an exception)";
        }
        catch (Exception exception)
        {
            return exception.ToString();
        }
    }

    internal static (int ExitCode, string Log) Run(string program, string[] arguments, TimeSpan limit)
    {
        var startInfo = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // AFL's defaults assume an instrumented native binary and a tuned machine: the program is `dotnet` (the managed
        // DLL carries the instrumentation), CI cares about crashes only in-process, and the CPU governor is not ours.
        startInfo.Environment["AFL_SKIP_BIN_CHECK"] = "1";
        startInfo.Environment["AFL_NO_UI"] = "1";
        startInfo.Environment["AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES"] = "1";
        startInfo.Environment["AFL_SKIP_CPUFREQ"] = "1";
        startInfo.Environment["AFL_NO_AFFINITY"] = "1";
        using Process process = Process.Start(startInfo)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        Task<string> standardOutput = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"{program} did not finish within {limit}\n{standardOutput.Result}\n{error.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, standardOutput.Result + error.Result);
    }

    private static string Tail(string log) => string.Join('\n', log.Split('\n').TakeLast(40));

    public void Dispose()
    {
        // A target AFL stopped in the middle of an input leaves its buffer behind; the next reader made in the fuzz lock
        // directory removes the buffers of readers that are gone.
        new RingHeadersTarget().Run([]);
        _directory.Dispose();
    }

    /// <summary>
    /// The fuzz program beside its own, instrumented, copy of ZeroLane.dll (and SharpFuzz, with dnlib, which instruments),
    /// made once for the class.
    /// </summary>
    public sealed class InstrumentedProgram : IDisposable
    {
        private readonly TempDirectory _directory = new();
        private readonly Lazy<string> _path;

        public InstrumentedProgram() => _path = new(Make);

        /// <summary>ZeroLane.Fuzz.dll in the instrumented copy; made on first use (after the test checked for AFL).</summary>
        internal string Path => _path.Value;

        private string Make()
        {
            foreach (string file in Directory.EnumerateFiles(AppContext.BaseDirectory))
            {
                string name = System.IO.Path.GetFileName(file);
                if (name.StartsWith("ZeroLane.Fuzz.", StringComparison.Ordinal) || name is "ZeroLane.dll" or "libzerolane_native.so" or "dnlib.dll" ||
                    name.StartsWith("SharpFuzz", StringComparison.Ordinal))
                {
                    File.Copy(file, System.IO.Path.Combine(_directory.Path, name));
                }
            }
            string program = System.IO.Path.Combine(_directory.Path, "ZeroLane.Fuzz.dll");
            (int exitCode, string log) = Run("dotnet", [program, "instrument", System.IO.Path.Combine(_directory.Path, "ZeroLane.dll")], TimeSpan.FromMinutes(2));
            Assert.True(exitCode == 0, $"instrumenting ZeroLane.dll failed (exit code {exitCode}):\n{log}");
            return program;
        }

        public void Dispose() => _directory.Dispose();
    }
}
