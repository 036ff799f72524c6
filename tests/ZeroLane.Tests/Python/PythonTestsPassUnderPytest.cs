namespace ZeroLane.Tests.Python;

/// <summary>
/// Every pytest test of <c>python/tests</c> as one xunit case, so the Python client's tests run with the README's test
/// command and count one by one in <c>.ci/run</c>'s <c>N passed, N failed</c> line: passed, failed (with pytest's message)
/// or skipped (with pytest's reason) as pytest decided in its one run of the suite (<see cref="PytestRun"/>).
/// </summary>
public sealed class PythonTestsPassUnderPytest(PytestRun run) : IClassFixture<PytestRun>
{
    [SkippableTheory]
    [MemberData(nameof(PytestCollection.Cases), MemberType = typeof(PytestCollection))]
    public void Passes(string test)
    {
        if (!PytestCollection.IsNodeId(test))
        {
            Assert.Fail(PytestCollection.Problem ?? $"'{test}' is not a pytest node ID, and collecting the tests again found no problem: rebuild and run again.");
        }
        run.AssertPassed(test);
    }
}
