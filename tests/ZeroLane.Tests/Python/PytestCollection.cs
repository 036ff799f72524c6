using ZeroLane.Tests.Docs;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Python;

/// <summary>
/// The pytest tests of <c>python/tests</c>, collected when xunit discovers its tests, so that each becomes one xunit case
/// (<see cref="PythonTestsPassUnderPytest"/>) and counts on its own in <c>.ci/run</c>'s line.
/// </summary>
/// <remarks>
/// Design: collection that cannot list every test (pytest missing, a module that fails to import, no tests at all) must
/// not look like a smaller suite: beside the tests it did collect, it yields one case named after the problem, which
/// fails with what pytest said (<see cref="Problem"/>). Node IDs are relative to pytest's rootdir (<c>python/</c>, where pyproject.toml configures
/// pytest), as in the JUnit XML that <see cref="PytestRun"/> reads back.
/// </remarks>
public static class PytestCollection
{
    /// <summary>The tests directory, relative to the repository root (the directory pytest runs from).</summary>
    internal const string TestsDirectory = "python/tests";

    /// <summary>The case that stands for the suite when pytest itself is missing.</summary>
    internal const string PytestMissingCase = "pytest is installed";

    /// <summary>The case that stands for the suite when pytest cannot collect it.</summary>
    internal const string CollectionFailedCase = "pytest collects python/tests";

    private static readonly TimeSpan s_collectTimeout = TimeSpan.FromMinutes(2);

    private static readonly Lazy<(string[] Ids, string? Problem)> s_collected = new(Collect);

    /// <summary>The theory's data: one row per pytest node ID, or one row naming why there are none.</summary>
    public static IEnumerable<object[]> Cases()
    {
        (string[] ids, string? problem) = s_collected.Value;
        IEnumerable<object[]> cases = ids.Select(id => new object[] { id });
        return problem is null ? cases : cases.Append([Prerequisites.Pytest.MissingMessage is null ? CollectionFailedCase : PytestMissingCase]);
    }

    /// <summary>Why the suite could not be collected, or null (collected again in this process if discovery ran elsewhere).</summary>
    internal static string? Problem => s_collected.Value.Problem;

    /// <summary>True for the cases that stand for a pytest test (node IDs have '::'); false for the problem cases.</summary>
    internal static bool IsNodeId(string test) => test.Contains("::", StringComparison.Ordinal);

    private static (string[] Ids, string? Problem) Collect()
    {
        if (Prerequisites.Pytest.MissingMessage is string missing)
        {
            return ([], missing);
        }
        PythonProcess.Result result = PythonProcess.Run(
            ReadmeQuickStartTests.RepositoryRoot(),
            ["-m", "pytest", TestsDirectory, "--collect-only", "-q", .. PythonProcess.PytestOptions],
            s_collectTimeout);
        // With -q, pytest prints one node ID per line, a blank line, then "N tests collected".
        string[] ids = result.Output.Split('\n')
            .TakeWhile(line => line.Trim().Length > 0)
            .Select(line => line.Trim())
            .Where(IsNodeId)
            .ToArray();
        if (result.TimedOut || result.ExitCode != 0 || ids.Length == 0)
        {
            // The tests that did collect still run (PytestRun continues past collection errors); this case fails for the rest.
            string what = result.TimedOut ? $"did not finish within {s_collectTimeout.TotalMinutes:0} minutes"
                : result.ExitCode == 5 ? "collected no tests"
                : $"exited with code {result.ExitCode}";
            string said = string.Join('\n', (result.Output + result.Error).Split('\n').Where(line => !IsNodeId(line))).Trim();
            return (ids, $"{PythonProcess.Describe(result.CommandLine)} {what}:\n{said}");
        }
        return (ids, null);
    }
}
