using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>open(2) flags. O_NOFOLLOW and O_DIRECTORY differ between x86-64 and arm64.</summary>
        internal static class OpenFlags
        {
            internal const int O_RDONLY = 0x0;
            internal const int O_RDWR = 0x2;
            internal const int O_CREAT = 0x40;
            internal const int O_EXCL = 0x80;
            internal const int O_CLOEXEC = 0x80000;

            internal static readonly int O_NOFOLLOW =
                RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
        }
    }
}
