using System.Globalization;
using Xunit.Abstractions;
using ZeroLane.Fuzz;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Fuzz;

/// <summary>
/// Every fuzz target (fuzz/ZeroLane.Fuzz) over its checked-in corpus and a fixed budget of mutations of it, in process: an
/// input may give a valid result or a documented exception, nothing else, and must finish. The budget is a count of
/// inputs, not a time, and the mutations come from a fixed seed, so every run tries the same inputs; a longer,
/// coverage-guided search is <see cref="FuzzTargetsSurviveAShortAflCampaign"/> and docs/FUZZING.md.
/// </summary>
public sealed class FuzzTargetsRefuseCorruptInputOnlyAsDocumented(ITestOutputHelper output)
{
    /// <summary>The mutation seed; <c>ZEROLANE_TEST_SEED</c> sets another, to search further by hand.</summary>
    private const int DefaultSeed = 20261201;

    /// <summary>Long enough for any one input of these targets (they take microseconds to a millisecond): beyond it, a hang.</summary>
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromMinutes(2);

    public static TheoryData<string, int> Budgets => new()
    {
        // Inputs per target: about two to five seconds each on one core.
        { "npy-header", 100_000 },
        { "message-frame", 100_000 },
        { "message-stream", 30_000 },
        { "ring-headers", 10_000 },
    };

    [Theory]
    [MemberData(nameof(Budgets))]
    public async Task EveryCorpusInputAndItsMutationsGiveAResultOrADocumentedException(string targetName, int inputs)
    {
        FuzzTarget target = FuzzTarget.Find(targetName);
        IReadOnlyList<(string Path, byte[] Bytes)> seeds = Corpus.Load(target);
        Assert.NotEmpty(seeds);
        int seed = Environment.GetEnvironmentVariable(TestSeed.VariableName) is { Length: > 0 } text
            ? int.Parse(text, CultureInfo.InvariantCulture)
            : DefaultSeed;
        output.WriteLine($"{target.Name}: {seeds.Count} seeds and {inputs} mutations, seed {seed}");

        Task<InProcessRun.Finding?> run = Task.Factory.StartNew(() => InProcessRun.Run(target, seeds, inputs, seed),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(await Task.WhenAny(run, Task.Delay(s_hangLimit)) == run, $"{target.Name} did not finish {inputs} inputs within {s_hangLimit}: " +
            $"an input hangs (replay the run with `dotnet ZeroLane.Fuzz.dll mutate {target.Name} {inputs} {seed}`).");
        if (await run is { } finding)
        {
            Assert.Fail($"{target.Name}: {finding.Origin} escaped with {finding.Exception.GetType().Name}: {finding.Exception.Message}\n" +
                $"input (base64): {Convert.ToBase64String(finding.Input)}\n{finding.Exception}");
        }
    }
}
