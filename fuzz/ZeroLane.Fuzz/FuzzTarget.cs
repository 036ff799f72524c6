namespace ZeroLane.Fuzz;

/// <summary>
/// One fuzz target: a function of arbitrary bytes that may return or throw only the exceptions the API documents for
/// corrupt input. <see cref="Run"/> swallows those; anything else escaping it (an IndexOutOfRangeException, an
/// OverflowException, a failed invariant of a result) is a finding, and a crash to AFL.
/// </summary>
/// <remarks>
/// Design: each target checks what its result promises (a header's data lies inside the file, a frame lies inside the
/// payload block, a message's parts add up to its length) and throws <see cref="FuzzInvariantException"/> otherwise, so a
/// wrong answer is found as surely as a crash. Targets are deterministic and bound their own work (frames read,
/// messages received), so an input either finishes or is a hang.
/// </remarks>
public abstract class FuzzTarget
{
    /// <summary>The name on the command line and of the corpus directory (fuzz/corpus/NAME).</summary>
    public abstract string Name { get; }

    /// <summary>What the target feeds its input to, for the listing and the docs.</summary>
    public abstract string Description { get; }

    /// <summary>Words the mutator splices into inputs (a dictionary, as AFL's -x takes).</summary>
    public virtual IReadOnlyList<byte[]> Tokens => [];

    /// <summary>Runs one input; returns normally for a valid result or a documented exception.</summary>
    public void Run(ReadOnlySpan<byte> input)
    {
        try
        {
            Execute(input);
        }
        catch (Exception exception) when (IsDocumented(exception))
        {
            // A documented refusal of corrupt input: what the target expects.
        }
    }

    /// <summary>Feeds <paramref name="input"/> to the code under test and checks the result's invariants.</summary>
    protected abstract void Execute(ReadOnlySpan<byte> input);

    /// <summary>Whether the API documents <paramref name="exception"/> for corrupt input to this target.</summary>
    protected abstract bool IsDocumented(Exception exception);

    /// <summary>Every target, in a fixed order.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new NpyHeaderTarget(),
        new MessageFrameTarget(),
        new MessageStreamTarget(),
        new RingHeadersTarget(),
    ];

    /// <summary>The target called <paramref name="name"/>.</summary>
    public static FuzzTarget Find(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"No fuzz target '{name}'; the targets are {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));

    /// <summary>Throws <see cref="FuzzInvariantException"/> with <paramref name="what"/> unless <paramref name="condition"/>.</summary>
    protected static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(what);
        }
    }
}

/// <summary>A result that breaks what the API promises about it: always a finding.</summary>
public sealed class FuzzInvariantException(string message) : Exception(message);
