using Xunit;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// Tests that count process-wide resources (threads, descriptors, mappings) and so must not run while other
/// tests create and destroy buffers. xunit runs this collection on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NonParallelCollection
{
    /// <summary>The collection's name, for <c>[Collection(NonParallelCollection.Name)]</c>.</summary>
    public const string Name = "Process-wide resource counts";
}
