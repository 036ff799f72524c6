using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    /// <summary>Linux errno values used by ZeroLane (identical on x86-64 and arm64).</summary>
    internal static class Errno
    {
        internal const int EPERM = 1;
        internal const int ENOENT = 2;
        internal const int ESRCH = 3;
        internal const int EINTR = 4;
        internal const int EAGAIN = 11;
        internal const int EWOULDBLOCK = EAGAIN;
        internal const int EACCES = 13;
        internal const int EEXIST = 17;
        internal const int ENOTDIR = 20;
        internal const int EFAULT = 14;
        internal const int EINVAL = 22;
        internal const int ENOSPC = 28;
        internal const int ENAMETOOLONG = 36;
        internal const int ENOSYS = 38;
        internal const int ELOOP = 40;
        internal const int EOVERFLOW = 75;
        internal const int ETIMEDOUT = 110;

        internal static int Last => Marshal.GetLastPInvokeError();

        internal static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
    }
}
