using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>recv(2) into <paramref name="buffer"/>: the bytes received, 0 at the end of the stream, or -1 with errno set.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static unsafe partial nint Recv(SafeHandle socket, byte* buffer, nuint length, int flags);
    }
}
