using Xunit;
using ZeroLane.Tests.Bench;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// The one collection of tests that must not run alongside others: tests that count process-wide resources
/// (threads, descriptors, mappings, allocations of the whole process), which other tests creating and destroying
/// buffers would disturb. xunit runs it on its own, after the parallel collections.
/// </summary>
/// <remarks>
/// It also holds the one <c>zerolane bench --json</c> run (<see cref="BenchJsonRun"/>) that the bench tests share:
/// it takes several seconds of both cores, so it runs once, before this collection's tests and not alongside them.
/// </remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NonParallelCollection : ICollectionFixture<BenchJsonRun>
{
    /// <summary>The collection's name, for <c>[Collection(NonParallelCollection.Name)]</c>.</summary>
    public const string Name = "Tests that run alone";
}
