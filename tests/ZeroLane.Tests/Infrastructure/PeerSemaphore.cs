using System.Runtime.InteropServices;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// A POSIX named semaphore opened by the test itself through libc, as a peer implementation would, so that
/// hand-made buffers need nothing from the library under test.
/// </summary>
internal sealed partial class PeerSemaphore : IDisposable
{
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private nint _handle;

    private PeerSemaphore(string name, nint handle)
    {
        Name = name;
        _handle = handle;
    }

    /// <summary>The name as passed to sem_open (with its leading slash).</summary>
    internal string Name { get; }

    /// <summary>The write semaphore of buffer NAME: <c>/sem-w-NAME</c>.</summary>
    internal static string WriteName(string buffer) => "/sem-w-" + buffer;

    /// <summary>The read semaphore of buffer NAME: <c>/sem-r-NAME</c>.</summary>
    internal static string ReadName(string buffer) => "/sem-r-" + buffer;

    /// <summary>Creates the semaphore exclusively with value 0, as a reader does.</summary>
    internal static PeerSemaphore Create(string name, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        nint handle = SemOpen(name, OCreat | OExcl, (uint)mode, 0);
        if (handle == 0)
        {
            throw new IOException($"sem_open(create) of {name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return new PeerSemaphore(name, handle);
    }

    /// <summary>Opens an existing semaphore, as a writer does.</summary>
    internal static PeerSemaphore Open(string name)
    {
        nint handle = SemOpen(name, 0, 0, 0);
        if (handle == 0)
        {
            throw new IOException($"sem_open of {name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return new PeerSemaphore(name, handle);
    }

    internal void Post()
    {
        if (SemPost(_handle) != 0)
        {
            throw new IOException($"sem_post of {Name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Takes one unit if there is one; never blocks.</summary>
    internal bool TryWait() => SemTryWait(_handle) == 0;

    internal int Value
    {
        get
        {
            if (SemGetValue(_handle, out int value) != 0)
            {
                throw new IOException($"sem_getvalue of {Name} failed: errno {Marshal.GetLastPInvokeError()}");
            }
            return value;
        }
    }

    public void Dispose()
    {
        if (_handle != 0)
        {
            SemClose(_handle);
            _handle = 0;
        }
    }

    // sem_open is variadic; integer mode and value arguments are passed in registers like fixed ones on 64-bit Linux.
    [LibraryImport("libc", EntryPoint = "sem_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint SemOpen(string name, int flags, uint mode, uint value);

    [LibraryImport("libc", EntryPoint = "sem_post", SetLastError = true)]
    private static partial int SemPost(nint semaphore);

    [LibraryImport("libc", EntryPoint = "sem_trywait", SetLastError = true)]
    private static partial int SemTryWait(nint semaphore);

    [LibraryImport("libc", EntryPoint = "sem_getvalue", SetLastError = true)]
    private static partial int SemGetValue(nint semaphore, out int value);

    [LibraryImport("libc", EntryPoint = "sem_close", SetLastError = true)]
    private static partial int SemClose(nint semaphore);
}
