using System.Buffers;

namespace ZeroLane.Ipc;

/// <summary>
/// The rule for the names of shared objects (buffers, shared arrays, and what comes next): which names are allowed.
/// </summary>
/// <remarks>
/// Design: names are restricted to letters, digits, '.', '_' and '-', must not start with '.', and are at most
/// <see cref="MaxLength"/> characters, so that none can escape <c>/dev/shm</c> or a lock directory ('/', '..'), be
/// hidden, or overflow NAME_MAX (255) once prefixed (a ring's longest object name is <c>sem.sem-w-NAME</c>).
/// </remarks>
internal static class ObjectNames
{
    /// <summary>NAME_MAX (255) less the longest prefix any object adds, with room to spare.</summary>
    internal const int MaxLength = 200;

    private static readonly SearchValues<char> s_allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    /// <summary>Throws <see cref="InvalidNameException"/> unless the name is allowed.</summary>
    /// <param name="name">The name to check.</param>
    /// <param name="kind">What it names, for the message: "buffer", "shared array", ...</param>
    internal static void Validate(string name, string kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        string? problem = Check(name);
        if (problem is not null)
        {
            throw new InvalidNameException(name, kind, problem);
        }
    }

    internal static bool IsValid(string name) => Check(name) is null;

    private static string? Check(string name)
    {
        if (name.Length == 0)
        {
            return "it is empty";
        }
        if (name.Length > MaxLength)
        {
            return $"it is {name.Length} characters long; the limit is {MaxLength}";
        }
        int bad = name.AsSpan().IndexOfAnyExcept(s_allowed);
        if (bad >= 0)
        {
            // Counted from 1, as people count; a control character is shown by its code, an emoji whole.
            string shown = char.IsControl(name[bad]) ? $"U+{(int)name[bad]:X4}"
                : char.IsHighSurrogate(name[bad]) && bad + 1 < name.Length ? $"'{name.Substring(bad, 2)}'"
                : $"'{name[bad]}'";
            return $"character {bad + 1} ({shown}) is not allowed; use letters, digits, '.', '_' and '-'";
        }
        if (name[0] == '.')
        {
            return "it starts with '.'";
        }
        return null;
    }
}
