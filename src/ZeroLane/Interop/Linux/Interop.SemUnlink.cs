using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "sem_unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int SemUnlink(string name);
    }
}
