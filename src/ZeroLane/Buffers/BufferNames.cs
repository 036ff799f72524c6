using ZeroLane.Ipc;

namespace ZeroLane.Buffers;

/// <summary>The names of the four objects a buffer NAME consists of (the name itself follows <see cref="ObjectNames"/>).</summary>
internal readonly record struct BufferNames(string Name, string LockDirectory)
{
    internal const string DefaultLockDirectory = "/tmp/zerobuffer";

    /// <summary>What a buffer's name is called in errors.</summary>
    internal const string Kind = "buffer";

    /// <summary>The shared memory name as passed to shm_open (no leading slash, as the peers do).</summary>
    internal string SharedMemory => Name;

    internal string WriteSemaphore => "/sem-w-" + Name;

    internal string ReadSemaphore => "/sem-r-" + Name;

    internal string LockPath => Path.Combine(LockDirectory, Name + ".lock");

    /// <summary>The objects of buffer <paramref name="name"/>, once the name is checked.</summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    internal static BufferNames Create(string name, string? lockDirectory = null)
    {
        Validate(name);
        return new BufferNames(name, lockDirectory ?? DefaultLockDirectory);
    }

    /// <summary>Throws <see cref="InvalidNameException"/> unless <paramref name="name"/> is allowed for a buffer.</summary>
    internal static void Validate(string name) => ObjectNames.Validate(name, Kind);

    internal static bool IsValid(string name) => ObjectNames.IsValid(name);
}
