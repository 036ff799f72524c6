using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>recv(2) into <paramref name="buffer"/>: the bytes received, 0 at the end of the stream, or -1 with errno set.</summary>
        internal static unsafe nint Recv(SafeHandle socket, Span<byte> buffer, int flags)
        {
            fixed (byte* start = buffer)
            {
                return RecvRaw(socket, start, (nuint)buffer.Length, flags);
            }
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        private static unsafe partial nint RecvRaw(SafeHandle socket, byte* buffer, nuint length, int flags);
    }
}
