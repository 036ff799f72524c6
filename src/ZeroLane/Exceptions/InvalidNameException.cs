namespace ZeroLane;

/// <summary>
/// A name (of a buffer, a shared array, ...) that could escape its directory or that the operating system would refuse.
/// Names are 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'.
/// </summary>
public sealed class InvalidNameException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="name"/>, the name of a <paramref name="kind"/> (such as "buffer").</summary>
    public InvalidNameException(string name, string kind, string problem)
        : base($"'{name}' is not a valid {kind} name: {problem}. {Capitalized(kind)} names are 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'.", "name")
    {
        Name = name;
        Kind = kind;
    }

    /// <summary>The rejected name.</summary>
    public string Name { get; }

    /// <summary>What the name was for: "buffer", "shared array", ...</summary>
    public string Kind { get; }

    private static string Capitalized(string kind) => kind.Length == 0 ? kind : char.ToUpperInvariant(kind[0]) + kind[1..];
}
