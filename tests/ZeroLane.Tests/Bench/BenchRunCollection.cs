using Xunit;

namespace ZeroLane.Tests.Bench;

/// <summary>Tests that share the one bench run (<see cref="BenchJsonRun"/>).</summary>
[CollectionDefinition(Name)]
public sealed class BenchRunCollection : ICollectionFixture<BenchJsonRun>
{
    public const string Name = "zerolane bench --json run";
}
