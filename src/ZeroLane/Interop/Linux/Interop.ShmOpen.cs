using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>shm_open(3). The peers pass the bare name (no leading slash); glibc maps it to /dev/shm/NAME.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "shm_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial SafeFileHandle ShmOpen(string name, int flags, uint mode);

        [LibraryImport(Libraries.Libc, EntryPoint = "shm_unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int ShmUnlink(string name);
    }
}
