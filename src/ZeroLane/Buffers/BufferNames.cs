using System.Buffers;

namespace ZeroLane.Buffers;

/// <summary>
/// The names of the four objects a buffer NAME consists of, and the rule for which names are allowed.
/// </summary>
/// <remarks>
/// Design: names are restricted to letters, digits, '.', '_' and '-', must not start with '.', and are at
/// most <see cref="MaxLength"/> characters, so that none can escape <c>/dev/shm</c> or the lock directory
/// ('/', '..'), be hidden, or overflow NAME_MAX once prefixed with <c>sem.sem-w-</c>.
/// </remarks>
internal readonly record struct BufferNames(string Name, string LockDirectory)
{
    /// <summary>NAME_MAX (255) less the longest prefix, <c>sem.sem-w-</c>, with room to spare.</summary>
    internal const int MaxLength = 200;

    internal const string DefaultLockDirectory = "/tmp/zerobuffer";

    private static readonly SearchValues<char> s_allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    /// <summary>The shared memory name as passed to shm_open (no leading slash, as the peers do).</summary>
    internal string SharedMemory => Name;

    internal string WriteSemaphore => "/sem-w-" + Name;

    internal string ReadSemaphore => "/sem-r-" + Name;

    internal string LockPath => Path.Combine(LockDirectory, Name + ".lock");

    internal static BufferNames Create(string name, string? lockDirectory = null)
    {
        Validate(name);
        return new BufferNames(name, lockDirectory ?? DefaultLockDirectory);
    }

    /// <summary>Throws <see cref="InvalidBufferNameException"/> unless the name is allowed.</summary>
    internal static void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string? problem = Check(name);
        if (problem is not null)
        {
            throw new InvalidBufferNameException(name, problem);
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
            return $"character {bad} ('{name[bad]}') is not allowed; use letters, digits, '.', '_' and '-'";
        }
        if (name[0] == '.')
        {
            return "it starts with '.'";
        }
        return null;
    }
}
