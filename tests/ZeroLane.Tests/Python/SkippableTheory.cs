using System.ComponentModel;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ZeroLane.Tests.Python;

/// <summary>
/// A theory whose cases can decide at run time that they are skipped, by throwing <see cref="SkipCaseException"/>: xunit 2
/// (this project's version) knows skipping only from attributes, while a pytest test says it skipped only once pytest has
/// run it. Each data row is its own test case, as with <see cref="TheoryAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
[XunitTestCaseDiscoverer("ZeroLane.Tests.Python.SkippableTheoryDiscoverer", "ZeroLane.Tests")]
public sealed class SkippableTheoryAttribute : TheoryAttribute
{
}

/// <summary>Thrown by a <see cref="SkippableTheoryAttribute"/> case to be reported as skipped, with its message as the reason.</summary>
public sealed class SkipCaseException(string reason) : Exception(reason)
{
}

/// <summary>Discovers a <see cref="SkippableTheoryAttribute"/> theory as one <see cref="SkippableTestCase"/> per data row.</summary>
public sealed class SkippableTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow) =>
        [new SkippableTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, dataRow)];
}

/// <summary>
/// One data row of a <see cref="SkippableTheoryAttribute"/> theory: runs as an ordinary case, except that a failure by
/// <see cref="SkipCaseException"/> is reported as a skip.
/// </summary>
/// <remarks>
/// Design: the case runs through a message bus that rewrites the failure message of a <see cref="SkipCaseException"/>
/// into a skipped message before the runner sees it, and the summary is corrected to match (the approach of the
/// Xunit.SkippableFact package, which this offline project cannot fetch).
/// </remarks>
public sealed class SkippableTestCase : XunitTestCase
{
    /// <summary>For xunit's deserialization only.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippableTestCase()
    {
    }

    public SkippableTestCase(
        IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay, TestMethodDisplayOptions defaultMethodDisplayOptions,
        ITestMethod testMethod, object[] testMethodArguments)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod, testMethodArguments)
    {
    }

    /// <summary>The method and its arguments in full: xunit shortens long string arguments, and pytest node IDs are long.</summary>
    protected override string GetDisplayName(IAttributeInfo factAttribute, string displayName) =>
        TestMethodArguments is { Length: > 0 } arguments
            ? $"{TestMethod.TestClass.Class.Name}.{TestMethod.Method.Name}({string.Join(", ", arguments)})"
            : base.GetDisplayName(factAttribute, displayName);

    public override async Task<RunSummary> RunAsync(
        IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments, ExceptionAggregator aggregator,
        CancellationTokenSource cancellationTokenSource)
    {
        var skipping = new SkippingMessageBus(messageBus);
        RunSummary summary = await base.RunAsync(diagnosticMessageSink, skipping, constructorArguments, aggregator, cancellationTokenSource).ConfigureAwait(false);
        summary.Failed -= skipping.Skipped;
        summary.Skipped += skipping.Skipped;
        return summary;
    }

    private sealed class SkippingMessageBus(IMessageBus inner) : IMessageBus
    {
        private static readonly string s_skipType = typeof(SkipCaseException).FullName!;

        internal int Skipped { get; private set; }

        public bool QueueMessage(IMessageSinkMessage message)
        {
            if (message is ITestFailed failed && failed.ExceptionTypes.FirstOrDefault() == s_skipType)
            {
                Skipped++;
                return inner.QueueMessage(new TestSkipped(failed.Test, failed.Messages.FirstOrDefault() ?? "skipped"));
            }
            return inner.QueueMessage(message);
        }

        public void Dispose()
        {
            // The inner bus belongs to the runner.
        }
    }
}
