using System.Text;
using System.Xml.Linq;
using ZeroLane.Tests.Docs;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Python;

/// <summary>
/// One run of the whole pytest suite (<c>/usr/bin/python3 -m pytest python/tests</c> from the repository root), shared by
/// every case of <see cref="PythonTestsPassUnderPytest"/>: each case then only looks up its own result.
/// </summary>
/// <remarks>
/// Design: pytest runs once, so the Python suite costs CI its own running time and one interpreter start, not one per
/// test. Results come from pytest's JUnit XML (--junitxml, written to a temporary directory removed afterwards), keyed as
/// pytest keys them there: the node ID's path as a dotted name plus its classes, and the test's name with its parameters
/// (pytest's <c>mangle_test_address</c>). A run that times out or crashes leaves tests without a result; those cases fail
/// with the end of pytest's output. The C# tool the Python tests start as a peer is built before this runs: the test
/// project references src/ZeroLane.Cli, so building the tests builds src/ZeroLane.Cli/bin/CONFIGURATION/net10.0.
/// </remarks>
public sealed class PytestRun : IDisposable
{
    /// <summary>A safety net against hangs, below the 5-minute hang guard of .ci/run; no test relies on it.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private readonly Dictionary<string, List<XElement>> _results = new(StringComparer.Ordinal);
    private readonly string _directory;

    public PytestRun()
    {
        _directory = Directory.CreateTempSubdirectory("zerolane-pytest-").FullName;
        if (Prerequisites.Pytest.MissingMessage is string missing)
        {
            RunProblem = missing;
            return;
        }
        string xml = Path.Combine(_directory, "results.xml");
        Run = PythonProcess.Run(
            ReadmeQuickStartTests.RepositoryRoot(),
            ["-m", "pytest", PytestCollection.TestsDirectory, "-q", "-rN", "--junitxml", xml, "-o", "junit_logging=all",
                "--continue-on-collection-errors", .. PythonProcess.PytestOptions],
            Timeout);
        if (Run.TimedOut)
        {
            RunProblem = $"{PythonProcess.Describe(Run.CommandLine)} did not finish within {Timeout.TotalMinutes:0} minutes and was killed";
        }
        if (!File.Exists(xml))
        {
            RunProblem ??= $"{PythonProcess.Describe(Run.CommandLine)} exited with code {Run.ExitCode} without writing {xml}";
            return;
        }
        foreach (XElement testCase in XDocument.Load(xml).Descendants("testcase"))
        {
            string key = $"{(string?)testCase.Attribute("classname")}::{(string?)testCase.Attribute("name")}";
            if (!_results.TryGetValue(key, out List<XElement>? elements))
            {
                _results[key] = elements = [];
            }
            elements.Add(testCase);
        }
    }

    /// <summary>The pytest run (null when pytest is missing).</summary>
    internal PythonProcess.Result? Run { get; }

    /// <summary>Why the run as a whole failed (missing pytest, a timeout, no results file), or null.</summary>
    internal string? RunProblem { get; }

    /// <summary>
    /// Passes if pytest passed the test with this node ID, fails with pytest's message if it failed or erred (in set-up,
    /// call or teardown), and throws <see cref="SkipCaseException"/> with pytest's reason if pytest skipped it.
    /// </summary>
    internal void AssertPassed(string nodeId)
    {
        if (!_results.TryGetValue(JUnitKey(nodeId), out List<XElement>? elements))
        {
            Assert.Fail($"pytest reported no result for {nodeId}" + (RunProblem is null ? "" : $": {RunProblem}") + ".\n" + OutputTail());
        }
        var failures = new StringBuilder();
        foreach (XElement element in elements.SelectMany(e => e.Elements()).Where(e => e.Name == "failure" || e.Name == "error"))
        {
            failures.AppendLine($"{element.Name}: {(string?)element.Attribute("message")}").AppendLine(element.Value.Trim());
        }
        if (failures.Length > 0)
        {
            foreach (XElement output in elements.SelectMany(e => e.Elements()).Where(e => e.Name == "system-out" || e.Name == "system-err"))
            {
                // pytest writes a "--- Captured Out ---" header (and the like) even above nothing.
                if (output.Value.Split('\n').Any(line => line.Trim().Length > 0 && !line.StartsWith("----", StringComparison.Ordinal)))
                {
                    failures.AppendLine($"--- {output.Name} ---").AppendLine(output.Value.Trim());
                }
            }
            Assert.Fail(failures.ToString());
        }
        if (elements.SelectMany(e => e.Elements("skipped")).FirstOrDefault() is XElement skipped)
        {
            throw new SkipCaseException($"pytest: {(string?)skipped.Attribute("message") ?? skipped.Value}");
        }
    }

    /// <summary>
    /// The key pytest's JUnit XML gives a node ID (<c>classname::name</c>): its file path as a dotted name without .py, plus
    /// any classes, then the test's name with its parameters, which may themselves contain '::' or '/'.
    /// </summary>
    internal static string JUnitKey(string nodeId)
    {
        int bracket = nodeId.IndexOf('[', StringComparison.Ordinal);
        string path = bracket < 0 ? nodeId : nodeId[..bracket];
        string parameters = bracket < 0 ? "" : nodeId[bracket..];
        string[] names = path.Split("::");
        names[0] = names[0].Replace('/', '.');
        if (names[0].EndsWith(".py", StringComparison.Ordinal))
        {
            names[0] = names[0][..^".py".Length];
        }
        return $"{string.Join('.', names[..^1])}::{names[^1]}{parameters}";
    }

    private string OutputTail()
    {
        if (Run is null)
        {
            return "";
        }
        string output = (Run.Output + Run.Error).Trim();
        const int Tail = 4000;
        return "--- end of pytest's output ---\n" + (output.Length > Tail ? "..." + output[^Tail..] : output);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
