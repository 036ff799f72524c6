using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>The fields of struct stat that ZeroLane reads, the same on every architecture.</summary>
        internal struct FileStatus
        {
            internal ulong Device;
            internal ulong Inode;

            /// <summary>st_mode: file type (S_IFMT bits) and permission bits.</summary>
            internal uint Mode;

            /// <summary>st_uid.</summary>
            internal uint OwnerId;

            internal long Size;
        }

        internal const uint S_IFMT = 0xF000;
        internal const uint S_IFSOCK = 0xC000;
        internal const uint S_IFLNK = 0xA000;
        internal const uint S_IFREG = 0x8000;
        internal const uint S_IFDIR = 0x4000;

        /// <summary>fstat(2) into <paramref name="status"/>; 0, or -1 with errno set.</summary>
        internal static unsafe int FStat(SafeFileHandle fd, out FileStatus status)
        {
            byte* buffer = stackalloc byte[StatBufferSize];
            int result = FStatRaw(fd, buffer);
            status = result == 0 ? Convert(buffer) : default;
            return result;
        }

        /// <summary>lstat(2) (a final symbolic link is not followed) into <paramref name="status"/>; 0, or -1 with errno set.</summary>
        internal static unsafe int LStat(string path, out FileStatus status)
        {
            byte* buffer = stackalloc byte[StatBufferSize];
            int result = LStatRaw(path, buffer);
            status = result == 0 ? Convert(buffer) : default;
            return result;
        }

        /// <summary>Large enough for struct stat on every 64-bit Linux ABI (144 bytes on x86-64, 128 on arm64).</summary>
        private const int StatBufferSize = 256;

        /// <summary>
        /// Reads the fields from glibc's struct stat. x86-64 has its own layout: st_nlink (64-bit) precedes st_mode; arm64
        /// and the other 64-bit architectures use the generic layout, with a 32-bit st_mode before a 32-bit st_nlink.
        /// st_dev, st_ino and st_size lie at the same offsets (0, 8, 48) in both.
        /// </summary>
        private static unsafe FileStatus Convert(byte* stat)
        {
            bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
            return new FileStatus
            {
                Device = *(ulong*)stat,
                Inode = *(ulong*)(stat + 8),
                Mode = *(uint*)(stat + (x64 ? 24 : 16)),
                OwnerId = *(uint*)(stat + (x64 ? 28 : 24)),
                Size = *(long*)(stat + 48),
            };
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "fstat", SetLastError = true)]
        private static unsafe partial int FStatRaw(SafeFileHandle fd, byte* statBuffer);

        [LibraryImport(Libraries.Libc, EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static unsafe partial int LStatRaw(string path, byte* statBuffer);
    }
}
