using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>
        /// Reads up to <paramref name="buffer"/>.Length bytes from the start of the file at <paramref name="path"/> (UTF-8,
        /// NUL-terminated) without allocating: open, read and close in one call, for small files such as
        /// <c>/proc/PID/stat</c> read inside wait loops. The descriptor never leaves this method. Returns the bytes read,
        /// or -1 with errno set.
        /// </summary>
        internal static unsafe int ReadFile(ReadOnlySpan<byte> path, Span<byte> buffer)
        {
            if (path.IsEmpty || path[^1] != 0)
            {
                throw new ArgumentException("The path must end with a NUL byte.", nameof(path));
            }
            int fd;
            fixed (byte* pathPointer = path)
            {
                fd = OpenForRead(pathPointer, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
            }
            if (fd < 0)
            {
                return -1;
            }
            nint length;
            fixed (byte* bufferPointer = buffer)
            {
                length = ReadRaw(fd, bufferPointer, buffer.Length);
            }
            int errno = Marshal.GetLastPInvokeError();
            CloseRaw(fd);
            Marshal.SetLastPInvokeError(errno);
            return (int)length;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true)]
        private static unsafe partial int OpenForRead(byte* path, int flags, uint mode);

        [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
        private static unsafe partial nint ReadRaw(int fd, byte* buffer, nint count);

        [LibraryImport(Libraries.Libc, EntryPoint = "close")]
        private static partial int CloseRaw(int fd);
    }
}
