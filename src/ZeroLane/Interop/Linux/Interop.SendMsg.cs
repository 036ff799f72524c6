using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>Do not raise SIGPIPE when the peer has gone; fail with EPIPE instead.</summary>
        internal const int MSG_NOSIGNAL = 0x4000;

        /// <summary>Fail with EAGAIN instead of blocking, whatever the descriptor's blocking mode.</summary>
        internal const int MSG_DONTWAIT = 0x40;

        /// <summary>Most iovecs one call accepts (UIO_MAXIOV).</summary>
        internal const int IOV_MAX = 1024;

        /// <summary>struct iovec.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct IOVector
        {
            internal byte* Base;
            internal nuint Count;
        }

        /// <summary>struct msghdr on 64-bit Linux (the padding after msg_namelen is implied by alignment).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct MessageHeader
        {
            internal void* Name;
            internal uint NameLength;
            internal IOVector* IOVectors;
            internal nuint IOVectorCount;
            internal void* Control;
            internal nuint ControlLength;
            internal int Flags;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
        internal static unsafe partial nint SendMsg(SafeHandle socket, MessageHeader* message, int flags);
    }
}
